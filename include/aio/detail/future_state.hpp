// The shared state behind aio::future<T>: the outcome, the waiters, a reference
// count (non-atomic: futures are loop-affine).
#pragma once

#include <aio/detail/frame_allocator.hpp>
#include <aio/detail/intrusive_list.hpp>
#include <aio/detail/source_site.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/detail/value_slot.hpp>
#include <aio/exceptions.hpp>

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace aio::detail {

/// Something waiting for a future: a suspended coroutine (in its frame) or a
/// done-callback (on the heap). `notify` wakes it when the future completes, or
/// with `discard` when the state dies first (only callbacks can still be linked
/// then, since a waiting coroutine holds a reference).
struct future_waiter : list_node {
  void (*notify)(future_waiter*, bool discard) noexcept = nullptr;
};

/// True if `e` holds an aio::cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;
/// what() of the exception `e` holds, for a report (src/log.cpp).
std::string exception_message(const std::exception_ptr& e);

class future_state_base : public pooled {
 public:
  enum class status : std::uint8_t { pending, value, error, cancelled };

  future_state_base() noexcept : waiters_() {}
  future_state_base(const future_state_base&) = delete;
  future_state_base& operator=(const future_state_base&) = delete;
  virtual ~future_state_base() {
    if (status_ == status::error) {
      if (!retrieved_) report_unretrieved({});
      std::destroy_at(&error_);
    }
    if (status_ == status::pending) notify(waiters_, true);
  }

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  [[nodiscard]] status state() const noexcept { return status_; }
  [[nodiscard]] bool done() const noexcept { return status_ != status::pending; }

  /// Future.cancel(): a pending plain future becomes cancelled; a task's future
  /// asks its task to cancel (see task_state).
  virtual bool cancel() noexcept {
    if (done()) return false;
    finish(status::cancelled);
    return true;
  }
  /// The task behind this future, if it is a task's, and its name.
  virtual task_context* task() const noexcept { return nullptr; }
  [[nodiscard]] virtual std::string task_name() const { return {}; }
  virtual void set_task_name(std::string) {}
  /// Where the task was created (debug mode only; null otherwise).
  [[nodiscard]] virtual const source_site* created_at() const noexcept { return nullptr; }
  /// A task's future: its root coroutine finished (see task_context::root_done).
  virtual void task_root_done(std::coroutine_handle<> /*root*/, bool /*never_started*/) noexcept {}

  void set_exception(std::exception_ptr e) {
    if (!e) throw invalid_state_error("aio::future::set_exception() was given an empty exception_ptr");
    ensure_pending("set_exception");
    if (is_cancellation(e)) finish(status::cancelled);
    else finish(status::error, std::move(e));
  }

  /// Throws what result() throws when there is no value: the stored error,
  /// cancelled_error, or invalid_state_error while pending.
  void throw_unless_value() const {
    switch (status_) {
      case status::value: return;
      case status::error: retrieved_ = true; std::rethrow_exception(error_);
      case status::cancelled: task_context::throw_cancelled();
      case status::pending: break;
    }
    throw invalid_state_error(
        "aio::future::result() called before the future is done: co_await the future, or check done() first");
  }
  [[nodiscard]] std::exception_ptr exception() const {
    if (status_ == status::pending)
      throw invalid_state_error(
          "aio::future::exception() called before the future is done: co_await the future, or check done() first");
    if (status_ == status::cancelled) task_context::throw_cancelled();
    if (status_ != status::error) return nullptr;
    retrieved_ = true;
    return error_;
  }

  /// Only while pending: once done, a future has no waiters.
  void add_waiter(future_waiter* w) noexcept {
    assert(!done() && "a done future is not waited on: check done() first");
    waiters_.push_back(w);
  }
  void remove_waiter(future_waiter* w) noexcept {
    if (w->linked()) waiters_.unlink(w);  // linked: the future is still pending
  }

  void ensure_pending(const char* what) const {
    if (done())
      throw invalid_state_error(std::string("aio::future::") + what +
                                "() called on a future that is already done: a future is completed once");
  }

 protected:
  /// Completes the future (with `error` if `s` is status::error) and wakes
  /// every waiter, in the order they started waiting. Waiters only schedule;
  /// nothing runs inline.
  void finish(status s, std::exception_ptr error = nullptr) noexcept {
    compact_list<future_waiter> waiting = std::move(waiters_);
    std::destroy_at(&waiters_);
    if (s == status::error) std::construct_at(&error_, std::move(error));
    status_ = s;
    notify(waiting, false);
  }

  // The waiters matter only while the future is pending and the error only
  // once it is done, so they share their room: every future state, and so
  // every task, is 8 bytes smaller. `status_` says which one is there.
  union {
    compact_list<future_waiter> waiters_;  // while pending
    std::exception_ptr error_;             // once done with status::error
  };
  std::uint32_t refs_ = 1;
  status status_ = status::pending;
  mutable bool retrieved_ = false;  // the error was rethrown or read: no "never retrieved" report
  bool has_extras_ = false;         // a task's: it has an entry in the extras table (task_extras.hpp)

  /// asyncio's "Task exception was never retrieved", through aio::log. Called
  /// by the most derived destructor that knows the name.
  void report_unretrieved(const std::string& task_name) const noexcept;

 private:
  static void notify(compact_list<future_waiter>& waiting, bool discard) noexcept {
    while (!waiting.empty()) {
      auto* w = waiting.pop_front();
      w->notify(w, discard);
    }
  }
};

/// The value of a future of a non-reference T. No flag of its own: the
/// future's status says whether it holds one (a std::optional's flag would
/// make a task_state<long> 8 bytes bigger).
template <class T>
class status_value {
 public:
  status_value() noexcept {}  // NOLINT: the union member is constructed by emplace
  ~status_value() {}
  status_value(const status_value&) = delete;
  status_value& operator=(const status_value&) = delete;

  template <class... A>
  void emplace(A&&... a) { std::construct_at(std::addressof(value_), std::forward<A>(a)...); }
  void destroy() noexcept { std::destroy_at(std::addressof(value_)); }
  T& get() noexcept { return value_; }
  // An awaiter of a shared result gets a copy; a move-only result is handed
  // over (it can be awaited once, like a task).
  T take() {
    if constexpr (std::is_copy_constructible_v<T>) return value_;
    else return std::move(value_);
  }

 private:
  union {
    T value_;
  };
};

template <class T>
inline constexpr bool holds_by_status = !std::is_void_v<T> && !std::is_reference_v<T>;

template <class T>
class future_state : public future_state_base {
 public:
  future_state() noexcept = default;
  ~future_state() override {
    if constexpr (holds_by_status<T>)
      if (status_ == status::value) value_.destroy();
  }

  template <class... A>
  void set_value(A&&... a) {
    ensure_pending("set_result");
    value_.emplace(std::forward<A>(a)...);
    finish(status::value);
  }
  decltype(auto) value() {
    throw_unless_value();
    return value_.get();
  }
  /// What an awaiter receives: a copy (a move for move-only T).
  decltype(auto) take() {
    throw_unless_value();
    return value_.take();
  }

 protected:
  std::conditional_t<holds_by_status<T>, status_value<T>, value_slot<T>> value_;
};

inline future_state_base* task_context::owner() const noexcept {
  if (future_distance != 0)
    return reinterpret_cast<future_state_base*>(reinterpret_cast<std::uintptr_t>(this) - 8 * future_distance);
  return static_cast<const child_context*>(this)->kind->owner(this);
}
inline void task_context::root_done(std::coroutine_handle<> r, bool never_started) noexcept {
  if (future_distance != 0) owner()->task_root_done(r, never_started);
  else static_cast<child_context*>(this)->kind->finished(this, r, never_started);
}
inline std::string task_context::display_name() const {
  if (future_distance != 0) return owner()->task_name();
  return static_cast<const child_context*>(this)->kind->name(this);
}

}  // namespace aio::detail
