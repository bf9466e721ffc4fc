// The coroutine promise of aio::task<T>: a non-template base holding the
// continuation, the task context and the exception, with thin typed layers.
#pragma once

#include <aio/detail/frame_allocator.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/detail/value_slot.hpp>

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

namespace aio {
template <class T> class task;
}

namespace aio::detail {

class promise_base : public pooled {
 public:
  struct final_awaiter {
    // Never ready: the frame must stay alive until the awaiter has read the result.
    bool await_ready() const noexcept { return false; }
    // Back to whoever awaited us. If that awaiter is still on the stack (we
    // never suspended), return to it and let it carry on without nesting;
    // otherwise resume it by symmetric transfer. A root (a task's top
    // coroutine) has no awaiter: its context takes the result and wakes the
    // task's future instead.
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      promise_base& p = h.promise();
      if (p.continuation_) {
        if (p.start_ == start_state::inline_running) {
          p.start_ = start_state::inline_finished;
          return std::noop_coroutine();
        }
        return p.continuation_;
      }
      p.context_->finished(p.context_, h, false);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  // Lazy: the body starts when the task is awaited or scheduled.
  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  [[nodiscard]] task_context* context() const noexcept { return context_; }
  [[nodiscard]] std::exception_ptr exception() const noexcept { return exception_; }

  /// How the awaiter started us; see task::awaiter::await_suspend.
  enum class start_state : unsigned char { scheduled, inline_running, inline_finished };

  std::coroutine_handle<> continuation_;
  task_context* context_ = nullptr;
  std::exception_ptr exception_;
  start_state start_ = start_state::scheduled;

 protected:
  void rethrow_if_failed() const {
    if (exception_) [[unlikely]] std::rethrow_exception(exception_);
  }
};

template <class T>
class task_promise final : public promise_base {
 public:
  task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) { result_.emplace(std::forward<U>(v)); }

  T result() {
    rethrow_if_failed();
    return result_.take_once();
  }
  value_slot<T>& slot() noexcept { return result_; }

 private:
  value_slot<T> result_;
};

template <class T>
class task_promise<T&> final : public promise_base {
 public:
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { result_.emplace(v); }
  T& result() {
    rethrow_if_failed();
    return result_.get();
  }
  value_slot<T&>& slot() noexcept { return result_; }

 private:
  value_slot<T&> result_;
};

template <>
class task_promise<void> final : public promise_base {
 public:
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void result() { rethrow_if_failed(); }
  value_slot<void>& slot() noexcept { return result_; }

 private:
  [[no_unique_address]] value_slot<void> result_;
};

/// Debug mode: a task<T> destroyed without ever being awaited (src/event_loop.cpp).
void report_never_awaited() noexcept;

/// Awaitables reach the task context through the awaiting coroutine's promise;
/// only aio coroutines have one.
template <class P>
inline constexpr bool is_aio_promise = std::is_base_of_v<promise_base, P>;

template <class P>
task_context* context_of(std::coroutine_handle<P> h) noexcept {
  static_assert(is_aio_promise<P>,
                "aio awaitables can only be awaited inside an aio::task coroutine "
                "(its promise carries the task context that cancellation needs)");
  return h.promise().context_;
}

}  // namespace aio::detail
