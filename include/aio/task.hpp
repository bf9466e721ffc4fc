// aio/task.hpp — aio::task<T>, the coroutine type (Python's `async def`).
//
// A task<T> is lazy: calling the coroutine function creates the frame but runs
// nothing; the body starts when the task is awaited (inline, in the awaiting
// task) or handed to aio::create_task / aio::gather / aio::run (as a task of its
// own, scheduled on the loop). It is move-only and can be awaited once.
//
// Awaiting runs the child at once; a child that finishes without suspending
// hands control straight back, and one that suspended resumes its awaiter by
// symmetric transfer, so long chains of awaits use constant stack.
// Awaiting a task is not a suspension point of the loop: like `await coro()` in
// Python, it neither yields to other tasks nor checks for cancellation.
//
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/promise.hpp>
#include <aio/exceptions.hpp>

#include <coroutine>
#include <utility>

namespace aio {

template <class T = void>
class [[nodiscard("a task does nothing until it is awaited or passed to aio::create_task")]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : handle_(h) {}
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// False for a moved-from or already-awaited task.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(handle_); }
  explicit operator bool() const noexcept { return valid(); }

  class awaiter {
   public:
    explicit awaiter(handle_type h) noexcept : handle_(h) {}
    awaiter(awaiter&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
    awaiter(const awaiter&) = delete;
    ~awaiter() {
      if (handle_) handle_.destroy();
    }

    // Never ready: a task is lazy. Checked here so that misuse throws in the
    // awaiting coroutine rather than crashing.
    bool await_ready() const {
      if (!handle_) [[unlikely]]
        throw invalid_state_error(
            "aio::task awaited after it was moved from or already awaited: a task can be awaited "
            "once; to await a result several times, wrap it with aio::create_task() and await "
            "the future");
      return false;
    }
    // Run the child right here; it shares our task context. If it finishes
    // without suspending, the parent goes on without suspending either (false):
    // sequential awaits never nest, so a million of them use constant stack
    // even where the compiler does not turn symmetric transfer into a tail call
    // (g++ at -O0 and under AddressSanitizer). If the child suspends, so does
    // the parent, and the child's final_suspend resumes it by symmetric transfer.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) noexcept {
      auto& child = handle_.promise();
      child.context_ = detail::context_of(parent);
      return child.run_inline_for(handle_, parent);
    }
    // The child has finished: its value or its exception.
    decltype(auto) await_resume() { return handle_.promise().result(); }

   private:
    handle_type handle_;
  };

  /// Awaiting consumes the task (an lvalue task too, like a Python coroutine
  /// object, which can be awaited once).
  awaiter operator co_await() && noexcept { return awaiter{std::exchange(handle_, {})}; }
  awaiter operator co_await() & noexcept { return awaiter{std::exchange(handle_, {})}; }

  /// Gives up ownership of the frame (used by the scheduler).
  [[nodiscard]] handle_type release() noexcept { return std::exchange(handle_, {}); }

 private:
  void destroy() noexcept {
    if (handle_) {
      // Still ours: nobody awaited or scheduled it (Python's "coroutine ...
      // was never awaited"), reported in debug mode.
      detail::report_never_awaited(handle_.promise());
      handle_.destroy();
    }
  }
  handle_type handle_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  static_assert(alignof(task_promise) <= max_promise_alignment, "see promise_of()");
  return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  static_assert(alignof(task_promise) <= max_promise_alignment, "see promise_of()");
  return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
}  // namespace detail

}  // namespace aio
