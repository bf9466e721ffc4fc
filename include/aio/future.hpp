// aio/future.hpp — aio::future<T> (asyncio.Future) and aio::outcome<T>.
//
// A future is a copyable handle to a result that will be set later: by
// set_result / set_exception, by cancel(), or by the task behind it when it came
// from create_task. Any number of coroutines can await it; each receives a copy
// of the value (a move for a move-only T, which can then be awaited once).
//
// Completing a future schedules its waiters on the loop; none is resumed inline.
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/future_state.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>

#include <cstdint>
#include <exception>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace aio {

/// One frame of an async stack trace: a coroutine, and the co_await it is
/// suspended at (the line of the last await it reached).
struct stack_frame {
  std::string function;  // the bare name: "fetch", "operator()"
  const char* file;
  std::uint32_t line;
};

/// A task seen without its result type: what aio::current_task() and
/// aio::all_tasks() give (asyncio's Task object; the result stays with the
/// task's future<T>). Copyable; keeps the task's state alive. An empty
/// task_info (default-constructed) refers to no task. Loop-affine.
class task_info {
 public:
  task_info() noexcept = default;
  explicit task_info(detail::future_state_base* state) noexcept : state_(state) {
    if (state_) state_->add_ref();
  }
  task_info(const task_info& o) noexcept : task_info(o.state_) {}
  task_info(task_info&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  task_info& operator=(task_info o) noexcept {
    std::swap(state_, o.state_);
    return *this;
  }
  ~task_info() {
    if (state_) state_->release();
  }

  explicit operator bool() const noexcept { return state_ != nullptr; }
  friend bool operator==(const task_info& a, const task_info& b) noexcept { return a.state_ == b.state_; }

  /// Task.get_name() / set_name().
  [[nodiscard]] std::string get_name() const { return state_ ? state_->task_name() : std::string(); }
  void set_name(std::string name) {
    if (state_) state_->set_task_name(std::move(name));
  }
  [[nodiscard]] bool done() const noexcept { return !state_ || state_->done(); }
  [[nodiscard]] bool cancelled() const noexcept {
    return state_ && state_->state() == detail::future_state_base::status::cancelled;
  }
  /// Task.cancel(), as future<T>::cancel().
  bool cancel() noexcept { return state_ && state_->cancel(); }
  [[nodiscard]] std::uint32_t cancelling() const noexcept {
    auto* t = state_ ? state_->task() : nullptr;
    return t ? t->cancel_requests : 0;
  }
  /// What the task is suspended on ("aio::sleep", "aio::queue::get", ...);
  /// null while it runs, is ready to run, or is done.
  [[nodiscard]] const char* waiting_on() const noexcept;
  /// Task.get_stack(): the chain of coroutines the task is suspended in,
  /// outermost (the task's own coroutine) first, each at the line of its
  /// current co_await. Empty while the task runs, is ready to run, or is done.
  [[nodiscard]] std::vector<stack_frame> get_stack() const;
  /// Task.print_stack(): the name, the state and get_stack(), one frame a line.
  void print_stack(std::ostream& out) const;

 private:
  detail::future_state_base* state_ = nullptr;
};

/// The settled result of one child of gather_settled (asyncio's
/// return_exceptions=True): a value, an exception, or cancelled.
template <class T>
class outcome {
 public:
  using value_type = T;

  [[nodiscard]] bool has_value() const noexcept { return status_ == status::value; }
  [[nodiscard]] bool has_exception() const noexcept { return status_ == status::error; }
  [[nodiscard]] bool cancelled() const noexcept { return status_ == status::cancelled; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; rethrows the exception, or throws cancelled_error.
  decltype(auto) value() & {
    check();
    return value_.get();
  }
  decltype(auto) value() && {
    check();
    return value_.take_once();
  }
  /// The exception (null for a value); for a cancelled child, a cancelled_error.
  [[nodiscard]] std::exception_ptr exception() const {
    if (status_ == status::cancelled) return std::make_exception_ptr(cancelled_error{});
    return error_;
  }

  // Setters, used by gather_settled.
  template <class... A>
  void store_value(A&&... a) {
    value_.emplace(std::forward<A>(a)...);
    status_ = status::value;
  }
  void store_error(std::exception_ptr e) noexcept {
    error_ = std::move(e);
    status_ = status::error;
  }
  void store_cancelled() noexcept { status_ = status::cancelled; }

 private:
  using status = detail::future_state_base::status;
  void check() const {
    if (status_ == status::error) std::rethrow_exception(error_);
    if (status_ == status::cancelled) detail::task_context::throw_cancelled();
    if (status_ == status::pending) throw invalid_state_error("aio::outcome::value() on an outcome that holds nothing");
  }
  detail::value_slot<T> value_;
  std::exception_ptr error_;
  status status_ = status::pending;
};

template <class T = void>
class future {
  using state_type = detail::future_state<T>;

 public:
  using value_type = T;

  /// A new pending future (asyncio.Future()).
  future() : state_(new state_type) {}
  /// Adopts a state with one reference already counted for this handle.
  explicit future(state_type* adopted) noexcept : state_(adopted) {}
  future(const future& o) noexcept : state_(o.state_) {
    if (state_) state_->add_ref();
  }
  future(future&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  future& operator=(future o) noexcept {
    std::swap(state_, o.state_);
    return *this;
  }
  ~future() {
    if (state_) state_->release();
  }

  [[nodiscard]] bool done() const noexcept { return state_->done(); }
  [[nodiscard]] bool cancelled() const noexcept {
    return state_->state() == detail::future_state_base::status::cancelled;
  }

  /// Future.set_result(). Throws invalid_state_error if already done.
  template <class U = T>
    requires(!std::is_void_v<U>)
  void set_result(U&& v) {
    state_->set_value(std::forward<U>(v));
  }
  // A template, so that clang 14 does not instantiate it for every T.
  template <class U = T>
    requires std::is_void_v<U>
  void set_result() {
    state_->set_value();
  }
  /// Future.set_exception(). A cancelled_error makes the future cancelled.
  void set_exception(std::exception_ptr e) { state_->set_exception(std::move(e)); }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) {
    state_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }

  /// Future.cancel() / Task.cancel(). False if the future is already done. For a
  /// task, the task is asked to cancel: it resumes at its current await with
  /// cancelled_error (or, before its first step, never runs).
  bool cancel() noexcept { return state_->cancel(); }

  /// Future.result(): the value (a reference into the shared state), or throws
  /// the exception, cancelled_error, or invalid_state_error while pending.
  decltype(auto) result() const { return state_->value(); }
  /// Future.exception(): null if it holds a value; throws cancelled_error if
  /// cancelled and invalid_state_error while pending.
  [[nodiscard]] std::exception_ptr exception() const { return state_->exception(); }

  /// Future.add_done_callback(): `f(future)` is scheduled on the running loop
  /// when the future completes (at once, if it is done).
  /// Throws: invalid_state_error outside a running loop.
  template <class F>
  void add_done_callback(F f);

  // --- Task futures (from create_task); plain futures answer 0 / "" -------

  /// Task.cancelling(): cancel requests not yet matched by uncancel().
  [[nodiscard]] std::uint32_t cancelling() const noexcept {
    auto* t = state_->task();
    return t ? t->cancel_requests : 0;
  }
  /// Task.uncancel(): decrements cancelling(); at zero a pending cancel is dropped.
  std::uint32_t uncancel() noexcept {
    auto* t = state_->task();
    return t ? t->uncancel() : 0;
  }
  /// Task.get_name(): the name given to create_task, else "Task-<n>".
  [[nodiscard]] std::string get_name() const { return state_->task_name(); }
  void set_name(std::string name) { state_->set_task_name(std::move(name)); }
  /// Task.get_stack() / print_stack(): see task_info.
  [[nodiscard]] std::vector<stack_frame> get_stack() const { return task_info{state_}.get_stack(); }
  void print_stack(std::ostream& out) const { task_info{state_}.print_stack(out); }

  class awaiter;
  awaiter operator co_await() const noexcept { return awaiter{state_}; }

  [[nodiscard]] state_type* state() const noexcept { return state_; }

 private:
  state_type* state_;
};

/// Awaiting a future suspends until it completes.
/// Resumes: at the loop iteration after the future completes (at once if done).
/// Cancellation: cancels the future (and the task behind it) — use aio::shield
/// to keep it running — then resumes when it has finished.
template <class T>
class future<T>::awaiter : detail::future_waiter, detail::waiting_task {
 public:
  explicit awaiter(state_type* s) noexcept : state_(s) { state_->add_ref(); }
  awaiter(awaiter&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  ~awaiter() {
    if (state_) {
      state_->remove_waiter(this);
      state_->release();
    }
  }

  // A done future is not a suspension point (as in asyncio).
  bool await_ready() const noexcept { return state_->done(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    notify = &on_done;
    state_->add_waiter(this);
    suspend(h, detail::suspension_ops_for<&on_cancel, "an aio::future">);
  }
  decltype(auto) await_resume() {
    if (context) context->throw_if_cancel_pending();
    return state_->take();
  }

 private:
  static void on_done(detail::future_waiter* w, bool) noexcept { static_cast<awaiter*>(w)->wake(); }
  static bool on_cancel(detail::suspension* s) noexcept {
    auto* self = static_cast<awaiter*>(s);
    // asyncio: Task.cancel() cancels the future the task waits on. We stay
    // linked and resume when it is done (a task finishes its cancellation first).
    return self->state_->cancel();
  }
  state_type* state_;
};

namespace detail {
template <class T, class F>
struct done_callback_waiter final : future_waiter {
  done_callback_waiter(future_state<T>* s, F fn, event_loop& l) : state(s), f(std::move(fn)), loop(l.liveness()) {
    notify = &on_done;
  }
  static void on_done(future_waiter* w, bool discard) noexcept {
    auto* self = static_cast<done_callback_waiter*>(w);
    // The future may complete after its loop closed (or was destroyed): then
    // the callback has nowhere to run and is dropped.
    event_loop* l = *self->loop;
    if (!discard && l != nullptr && !l->is_closed()) {
      self->state->add_ref();
      future<T> fut{self->state};
      l->call_soon([fn = std::move(self->f), fut = std::move(fut)]() mutable { fn(fut); });
    }
    delete self;
  }
  future_state<T>* state;
  F f;
  std::shared_ptr<event_loop* const> loop;
};
}  // namespace detail

template <class T>
template <class F>
void future<T>::add_done_callback(F f) {
  event_loop& loop = get_running_loop();
  if (done()) {
    loop.call_soon([fn = std::move(f), fut = *this]() mutable { fn(fut); });
    return;
  }
  state_->add_waiter(new detail::done_callback_waiter<T, F>(state_, std::move(f), loop));
}


}  // namespace aio

#include <aio/detail/task_state.hpp>
