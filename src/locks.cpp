#include <aio/locks.hpp>

namespace aio {

// --- lock ------------------------------------------------------------------

lock::guard lock::try_acquire() noexcept {
  // Waiters exist only while the lock is held, so a free lock has no line to jump.
  return take_if_free() ? guard{this} : guard{};
}

void lock::release() {
  if (!locked_)
    throw invalid_state_error("aio::lock::release() called on a lock that is not acquired");
  unlock();
}

void lock::unlock() noexcept {
  // Hand the lock straight to the first waiter: it stays locked, so nobody
  // can take it between this release and that waiter's resumption.
  if (!waiters_.empty()) waiters_.grant_front();
  else locked_ = false;
}

lock::guard lock::acquire_operation::await_resume() {
  if (state == status::cancelled) detail::task_context::throw_cancelled();
  if (cancel_pending()) {
    // We were handed the lock, then cancelled before we ran: pass it on.
    lock_->unlock();
    context->throw_if_cancel_pending();
  }
  return guard{lock_};
}

// --- event -------------------------------------------------------------------

void event::set() noexcept {
  if (set_) return;
  set_ = true;
  while (!waiters_.empty()) waiters_.grant_front();
}

void event::wait_operation::await_resume() const {
  if (state == status::cancelled) detail::task_context::throw_cancelled();
  // Woken by set() but cancelled before running: nothing to give back.
  if (context != nullptr) context->throw_if_cancel_pending();
}

// --- condition ---------------------------------------------------------------

void condition::notified_operation::await_resume() {
  if (state == status::cancelled) detail::task_context::throw_cancelled();
  if (cancel_pending()) {
    // The notification was ours but we will not act on it: the next waiter
    // gets it instead (asyncio 3.13 does the same, by notifying one more).
    cond_->wake(1);
    context->throw_if_cancel_pending();
  }
}

task<> condition::wait() {
  if (!lock_->locked())
    throw invalid_state_error("aio::condition::wait() called without holding the lock: acquire() it first");
  lock_->release();
  bool cancelled = false;
  try {
    co_await notified_operation{*this};
  } catch (const cancelled_error&) {
    cancelled = true;
  }
  // The caller holds the lock when wait() returns, whatever happened: re-acquire
  // it even if cancelled, and swallow further cancels until we have it.
  for (;;) {
    try {
      lock::guard g = co_await lock_->acquire();
      g.lock_ = nullptr;  // ownership stays with the caller's guard
      break;
    } catch (const cancelled_error&) {
      cancelled = true;
    }
  }
  if (cancelled) detail::task_context::throw_cancelled();
}

void condition::notify(std::size_t n) {
  if (!lock_->locked())
    throw invalid_state_error("aio::condition::notify() called without holding the lock: acquire() it first");
  wake(n);
}

void condition::notify_all() {
  if (!lock_->locked())
    throw invalid_state_error(
        "aio::condition::notify_all() called without holding the lock: acquire() it first");
  wake(static_cast<std::size_t>(-1));
}

void condition::wake(std::size_t n) noexcept {
  for (; n > 0 && !waiters_.empty(); --n) waiters_.grant_front();
}

// --- semaphore ---------------------------------------------------------------

semaphore::semaphore(std::ptrdiff_t value, bool bounded) : value_(value), bound_(value), bounded_(bounded) {
  if (value < 0) throw value_error("aio::semaphore: the initial value must be >= 0");
}

semaphore::permit semaphore::try_acquire() noexcept { return take_if_free() ? permit{this} : permit{}; }

void semaphore::release() {
  if (bounded_ && value_ >= bound_)
    throw value_error("aio::bounded_semaphore released too many times (more releases than acquires)");
  give_back();
}

void semaphore::give_back() noexcept {
  // Hand the permit straight to the first waiter (value_ stays 0), so a
  // newcomer cannot take it first.
  if (!waiters_.empty()) waiters_.grant_front();
  else ++value_;
}

semaphore::permit semaphore::acquire_operation::await_resume() {
  if (state == status::cancelled) detail::task_context::throw_cancelled();
  if (cancel_pending()) {
    // Handed a permit, then cancelled before we ran: pass it on.
    sem_->give_back();
    context->throw_if_cancel_pending();
  }
  return permit{sem_};
}

// --- barrier -----------------------------------------------------------------
// A transcription of asyncio's Barrier, state machine included.

barrier::barrier(std::size_t parties) : parties_(parties) {
  if (parties < 1) throw value_error("aio::barrier: parties must be >= 1");
}

task<std::size_t> barrier::wait() {
  auto guard = co_await cond_.acquire();
  // Block while the previous cycle drains or a reset completes.
  auto may_enter = [this] { return state_ != state::draining && state_ != state::resetting; };
  co_await cond_.wait_for(may_enter);
  if (state_ == state::broken) throw broken_barrier_error("aio::barrier: the barrier is broken (aborted)");
  const std::size_t index = count_++;
  struct leave_on_exit {  // runs with the lock held, on success and on error alike
    barrier* b;
    ~leave_on_exit() { b->exit_one(); }
  } on_exit{this};
  if (index + 1 == parties_) {
    // The last arrival releases everyone.
    state_ = state::draining;
    cond_.notify_all();
  } else {
    auto filled = [this] { return state_ != state::filling; };
    co_await cond_.wait_for(filled);
    if (state_ == state::broken || state_ == state::resetting)
      throw broken_barrier_error("aio::barrier: the barrier was aborted or reset while waiting");
  }
  co_return index;
}

void barrier::exit_one() noexcept {
  // The last task out of a drain (or reset) refills the barrier and lets the
  // tasks blocked at the entrance in. Runs with the condition's lock held.
  if (--count_ == 0) {
    if (state_ == state::resetting || state_ == state::draining) state_ = state::filling;
    cond_.wake(static_cast<std::size_t>(-1));
  }
}

task<> barrier::reset() {
  auto guard = co_await cond_.acquire();
  if (count_ > 0) {
    if (state_ != state::resetting) state_ = state::resetting;
  } else {
    state_ = state::filling;
  }
  cond_.notify_all();
}

task<> barrier::abort() {
  auto guard = co_await cond_.acquire();
  state_ = state::broken;
  cond_.notify_all();
}

}  // namespace aio
