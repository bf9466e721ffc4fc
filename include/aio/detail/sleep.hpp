// The awaiters of sleep, sleep_until and yield.
#pragma once

#include <aio/detail/promise.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/detail/timer_queue.hpp>
#include <aio/event_loop.hpp>

#include <coroutine>
#include <cstdint>

namespace aio::detail {

/// Suspends until a deadline. The timer lives in the awaiting frame: a sleep
/// allocates nothing. With a million sleeping tasks every byte here is a
/// megabyte, so it keeps 24 bytes, not 48 (with the 24-byte promise, a frame
/// sleeping here is 96 bytes with g++): no task context pointer (the frame's
/// promise has it; see context()), no deadline (the timer queue keeps it), no
/// expiry function (the loop calls expire() for every timer armed with
/// add_sleep_timer), and the amount shares its room with the handle.
class sleep_operation : suspension, timer_slot {
 public:
  /// `relative`: the deadline is `ns` after the loop's time when the await starts.
  sleep_operation(std::int64_t ns, bool relative) noexcept : relative_(relative), amount_(ns) {}
  // Moved only before the await starts (promise_base::await_transform moves a
  // temporary awaitable into the await), when it holds nothing but its amount.
  sleep_operation(sleep_operation&& o) noexcept : sleep_operation(o.amount_, o.relative_) {}
  ~sleep_operation() {
    if (armed()) context()->loop->remove_timer(*this);  // the frame died while sleeping (loop closing)
  }

  // Even sleep(0) yields to the loop once, as asyncio.sleep(0) does.
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    task_context* ctx = context_of(h);
    event_loop& loop = *ctx->loop;
    const std::int64_t amount = amount_;
    handle_ = h;  // from here on the amount's room holds the handle
    if (relative_ && amount <= 0) {
      // sleep(0) is asyncio's bare yield: no timer, just the back of the queue.
      // Not waiting on anything, so a cancel meanwhile is delivered on resume.
      loop.schedule(h);
      return;
    }
    loop.add_sleep_timer(*this, relative_ ? amount + loop.now_ns() : amount);
    ops = &detail::suspension_ops_for<&on_cancel, "aio::sleep", &suspended>;
    ctx->suspend_on(this);
  }
  void await_resume() {
    if (cancelled_) task_context::throw_cancelled();
    context()->throw_if_cancel_pending();
  }

  /// Wakes the sleeper: `t` (a sleep's timer) expired.
  static void expire(timer_slot* t) noexcept { static_cast<sleep_operation*>(t)->wake(); }
  /// Start fetching what expire() reads: the loop pops a batch of due timers
  /// and calls these for all the sleeps among them, one step at a time (the
  /// timer, then its frame's promise, then the task context), before expiring
  /// any, so that those misses overlap.
  static void prefetch_frame(const timer_slot* t) noexcept {
    __builtin_prefetch(static_cast<const sleep_operation*>(t)->handle_.address());
  }
  static void prefetch_context(const timer_slot* t) noexcept {
    __builtin_prefetch(static_cast<const sleep_operation*>(t)->context(), 1);
  }

 private:
  [[nodiscard]] task_context* context() const noexcept { return promise_of(handle_).context(); }
  void wake() noexcept { context()->wake(handle_); }
  static std::coroutine_handle<> suspended(const suspension* s) noexcept {
    return static_cast<const sleep_operation*>(s)->handle_;
  }
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<sleep_operation*>(s);
    // Popped by the loop but not yet expired (it expires due timers in
    // batches): the wake-up is on its way, so the cancel waits for the resume.
    if (!self->armed()) return false;
    self->context()->loop->remove_timer(*self);
    self->cancelled_ = true;
    self->wake();
    return true;
  }

  // The flags first: they fit beside the timer's 32-bit slot.
  bool relative_;
  bool cancelled_ = false;
  union {
    std::int64_t amount_;  // until the await starts: nanoseconds, relative or absolute
    std::coroutine_handle<> handle_;  // from then on: the sleeping coroutine
  };
};

static_assert(sizeof(sleep_operation) <= 24, "a sleeping frame grows by a 16-byte class if the sleep does");

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
