// The awaiters of sleep, sleep_until and yield.
#pragma once

#include <aio/detail/timer_heap.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/event_loop.hpp>

#include <coroutine>
#include <cstdint>

namespace aio::detail {

/// Suspends until a deadline. The timer node lives in the awaiting frame: a
/// sleep allocates nothing.
class sleep_operation : waiting_task, timer_node {
 public:
  /// `relative`: the deadline is `ns` after the loop's time when the await starts.
  /// Until the await starts, `deadline` holds the amount as given (relative or
  /// absolute): a sleeping frame is smaller without a field for each.
  sleep_operation(std::int64_t ns, bool relative) noexcept : relative_(relative) { deadline = ns; }
  // Moved only before the await starts (promise_base::await_transform moves a
  // temporary awaitable into the await), when it holds nothing but its amount.
  sleep_operation(sleep_operation&& o) noexcept : sleep_operation(o.deadline, o.relative_) {}
  ~sleep_operation() {
    if (armed()) context->loop->remove_timer(*this);  // the frame died while sleeping (loop closing)
  }

  // Even sleep(0) yields to the loop once, as asyncio.sleep(0) does.
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    event_loop& loop = *context_of(h)->loop;
    if (relative_ && deadline <= 0) {
      // sleep(0) is asyncio's bare yield: no timer, just the back of the queue.
      // Not waiting on anything, so a cancel meanwhile is delivered on resume.
      context = context_of(h);
      loop.schedule(h);
      return;
    }
    if (relative_) deadline += loop.now_ns();
    expire = &on_expire;
    loop.add_timer(*this);
    suspend(h, detail::suspension_ops_for<&on_cancel, "aio::sleep">);
  }
  void await_resume() {
    if (cancelled_) task_context::throw_cancelled();
    context->throw_if_cancel_pending();
  }

  /// If `t` is a sleep's timer, starts fetching the task context that expiring
  /// it will write: the loop calls this for a batch of due timers before
  /// expiring any, so that those misses overlap (event_loop.cpp).
  static void prefetch_context(const timer_node* t) noexcept {
    if (t->expire == &on_expire) __builtin_prefetch(static_cast<const sleep_operation*>(t)->context, 1);
  }

 private:
  static void on_expire(timer_node* t) noexcept { static_cast<sleep_operation*>(t)->wake(); }
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<sleep_operation*>(s);
    // Popped by the loop but not yet expired (it expires due timers in
    // batches): the wake-up is on its way, so the cancel waits for the resume.
    if (!self->armed()) return false;
    self->context->loop->remove_timer(*self);
    self->cancelled_ = true;
    self->wake();
    return true;
  }

  bool relative_;
  bool cancelled_ = false;
};

/// Yields to the loop once (asyncio.sleep(0)). Like asyncio's bare yield, it is
/// not waiting on anything: a cancel arriving meanwhile is delivered on resume.
class yield_operation {
 public:
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    context_ = context_of(h);
    context_->loop->schedule(h);
  }
  void await_resume() { context_->throw_if_cancel_pending(); }

 private:
  task_context* context_ = nullptr;
};

}  // namespace aio::detail
