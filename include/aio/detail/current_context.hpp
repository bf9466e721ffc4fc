// `co_await current_context()` gives a coroutine its task context without
// suspending: how timeouts and cancellation tokens find the task to cancel.
#pragma once

#include <aio/detail/promise.hpp>

#include <coroutine>

namespace aio::detail {

class current_context_operation {
 public:
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    context_ = context_of(h);
    return false;  // never actually suspends
  }
  task_context* await_resume() const noexcept { return context_; }

 private:
  task_context* context_ = nullptr;
};

[[nodiscard]] inline current_context_operation current_context() noexcept { return {}; }

}  // namespace aio::detail
