// The state of a task made by create_task (or run): its future's state and its
// task context in one pooled object. Included by event_loop.hpp, after the loop.
#pragma once

#include <aio/detail/future_state.hpp>
#include <aio/detail/source_site.hpp>
#include <aio/detail/task_extras.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/task.hpp>

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>

namespace aio::detail {

/// Moves a finished root's result (or error) from its promise into `out`, then
/// destroys the frame. Shared by task futures and the children of gather.
/// Returns the status the result gives.
template <class T, class Out>
future_state_base::status take_root_result(std::coroutine_handle<> root, Out& out) noexcept {
  auto h = std::coroutine_handle<task_promise<T>>::from_address(root.address());
  auto& p = h.promise();
  future_state_base::status s = future_state_base::status::value;
  if (p.failed()) {
    std::exception_ptr e = p.take_exception();
    if (is_cancellation(e)) {
      s = future_state_base::status::cancelled;
    } else {
      out.store_error(std::move(e));
      s = future_state_base::status::error;
    }
  } else {
    try {
      if constexpr (std::is_void_v<T>) out.store_value();
      else out.store_value(p.slot().take_once());
    } catch (...) {  // a throwing move constructor of the result
      out.store_error(std::current_exception());
      s = future_state_base::status::error;
    }
  }
  root.destroy();
  return s;
}

/// The future state comes first (the compiler puts the base with the vtable
/// at the start) and the task context after it; the context records how far
/// back the future is (future_distance): task_context::owner() finds it from
/// there, and the future's vtable does what a table of functions in the
/// context would otherwise do.
template <class T>
class task_state final : public future_state<T>, public task_context {
  using status = future_state_base::status;

 public:
  /// `created_at`: where create_task was called; unknown unless debug mode keeps it.
  /// `name` is moved from only when it is not empty.
  task_state(event_loop& loop, std::coroutine_handle<task_promise<T>> h, std::string& name, std::uint64_t id,
             source_site created_at) noexcept
  {
    if (!name.empty() || created_at.known()) {
      set_task_extras(this, task_extras{std::move(name), created_at});
      this->has_extras_ = true;
    }
    this->id = static_cast<std::uint32_t>(id);
    this->loop = &loop;
    adopt_root(h);
    // The compiler may put the context in the future state's tail padding,
    // so the distance is taken from where it is, not computed from sizes.
    const std::uintptr_t distance = reinterpret_cast<std::uintptr_t>(static_cast<task_context*>(this)) -
                                    reinterpret_cast<std::uintptr_t>(static_cast<future_state_base*>(this));
    future_distance = static_cast<std::uint16_t>(distance / 8) & task_context::max_future_distance;
    assert(distance % 8 == 0 && owner() == static_cast<future_state_base*>(this));
  }
  ~task_state() override {
    if (this->status_ == status::error && !this->retrieved_) {
      try {
        this->report_unretrieved(name());
      } catch (...) {  // building the name ran out of memory: report without it
        this->report_unretrieved({});
      }
      this->retrieved_ = true;
    }
    if (root) root.destroy();  // only a task abandoned by close(): it never finished
    if (this->has_extras_) erase_task_extras(this);
  }

  // The context comes after the future state and its value (see future_distance).
  static_assert(sizeof(future_state<T>) / 8 <= task_context::max_future_distance,
                "aio::create_task: a task's result type is limited to about 128 KB: return a std::unique_ptr or a "
                "std::vector instead");

  // Fitted to 8 bytes, in the pool's classes for objects, not the frames'
  // (16-byte steps, and frees of the two would interleave on one list).
  static void* operator new(std::size_t n) { return pool_allocate(n, alignof(task_state)); }
  static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n, alignof(task_state)); }

  bool cancel() noexcept override {
    if (this->done()) return false;
    return request_cancel();
  }
  task_context* task() const noexcept override { return const_cast<task_state*>(this); }

  [[nodiscard]] std::string task_name() const override { return name(); }
  void set_task_name(std::string n) override { set_name(std::move(n)); }
  [[nodiscard]] std::string name() const {
    if (this->has_extras_)
      if (task_extras e = get_task_extras(this); !e.name.empty()) return std::move(e.name);
    return "Task-" + std::to_string(this->id);
  }
  void set_name(std::string n) {
    set_task_extras_name(this, std::move(n));
    this->has_extras_ = true;
  }
  [[nodiscard]] const source_site* created_at() const noexcept override {
    if (!this->has_extras_) return nullptr;
    const source_site& site = task_extras_site(this);
    return site.known() ? &site : nullptr;
  }

 private:
  /// take_root_result's sink: the value goes in place, the error to finish(),
  /// which puts it where the waiters were.
  struct result_sink {
    task_state* self;
    std::exception_ptr error;
    template <class... A>
    void store_value(A&&... a) { self->value_.emplace(std::forward<A>(a)...); }
    void store_error(std::exception_ptr e) noexcept { error = std::move(e); }
  };
  void task_root_done(std::coroutine_handle<> r, bool never_started) noexcept override {
    result_sink out{this, nullptr};
    status s = status::cancelled;
    root = {};
    if (never_started) r.destroy();
    else s = take_root_result<T>(r, out);
    leave_loop();
    this->finish(s, std::move(out.error));
    this->release();  // the loop's reference, held while the task was pending
  }
};

}  // namespace aio::detail
