// aio/locks.hpp — synchronization primitives (asyncio's locks.py): lock,
// event, condition, semaphore, bounded_semaphore, barrier.
//
// Waiters are served first come, first served, and a release hands the
// resource straight to the first waiter: no newcomer can overtake the line
// ("no barging", as asyncio's Lock and Semaphore since 3.11/3.12). Wake-ups
// are scheduled on the loop's ready queue, never resumed inline from
// release() / set() / notify().
//
// Cancel safety: a task cancelled while waiting leaves the line and nothing is
// lost. A task that was handed the lock / a permit / a notification but is
// cancelled before it runs gets cancelled_error from the same await, and what
// it was handed passes on to the next waiter (asyncio's known pitfall, where a
// release could be lost to a cancelled waiter, cannot happen).
//
// Acquisition is RAII: `auto guard = co_await lock.acquire();` holds the lock
// until `guard` is destroyed (or guard.release()). Guards and permits are
// movable, not copyable.
//
// A primitive must outlive the coroutines waiting on it. Loop-affine, not
// thread-safe.
#pragma once

#include <aio/detail/waiter_list.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace aio {

/// asyncio.BrokenBarrierError: the barrier was aborted or reset while (or
/// before) a task waited on it.
class broken_barrier_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- lock ------------------------------------------------------------------

/// asyncio.Lock: a mutual-exclusion lock for coroutines (not for threads).
/// Example: examples/08_semaphores.cpp (semaphore, same pattern)
class lock {
 public:
  /// Holds the lock; releases it when destroyed. Movable. Empty after a
  /// failed try_acquire(), after release(), or when moved from.
  class [[nodiscard("the lock is released when the guard is destroyed")]] guard {
   public:
    guard() noexcept = default;
    guard(guard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
    guard& operator=(guard&& o) noexcept {
      if (this != &o) {
        release();
        lock_ = std::exchange(o.lock_, nullptr);
      }
      return *this;
    }
    ~guard() { release(); }
    /// Releases the lock now (idempotent).
    void release() noexcept {
      if (lock_ != nullptr) std::exchange(lock_, nullptr)->unlock();
    }
    [[nodiscard]] bool owns_lock() const noexcept { return lock_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }

   private:
    friend class lock;
    friend class condition;
    explicit guard(lock* l) noexcept : lock_(l) {}
    lock* lock_ = nullptr;
  };

  class acquire_operation;

  lock() noexcept = default;
  lock(const lock&) = delete;
  lock& operator=(const lock&) = delete;

  /// Lock.acquire() / `async with lock`: waits until the lock is free, takes it.
  /// Resumes: at once if the lock is free and nobody waits (no suspension, no
  /// cancellation check, as in asyncio); else when release() hands it over, in
  /// FIFO order.
  /// Cancellation: leaves the line; if the lock was already handed over, it
  /// passes to the next waiter. Either way the await throws cancelled_error
  /// and the lock is not held.
  [[nodiscard]] acquire_operation acquire() noexcept;
  /// Takes the lock if it is free (and nobody waits): a guard that owns it, or
  /// an empty guard.
  guard try_acquire() noexcept;
  /// Lock.release(): hands the lock to the first waiter, or frees it.
  /// Throws: invalid_state_error if the lock is not held.
  void release();
  /// Lock.locked(). True also while the lock is on its way to a woken waiter.
  [[nodiscard]] bool locked() const noexcept { return locked_; }

 private:
  friend class guard;
  void unlock() noexcept;
  bool take_if_free() noexcept {
    if (locked_) return false;
    locked_ = true;
    return true;
  }

  detail::waiter_list<> waiters_;
  bool locked_ = false;
};

class lock::acquire_operation : detail::waiter {
 public:
  explicit acquire_operation(lock& l) noexcept : lock_(&l) {}
  // Movable only before the await starts (promise_base::await_transform moves
  // a temporary awaitable into the await), when it holds nothing but its target.
  acquire_operation(acquire_operation&& o) noexcept : acquire_operation(*o.lock_) {}
  ~acquire_operation() { detail::waiter_list<>::remove(this); }

  // Free: take it without suspending (asyncio's fast path).
  bool await_ready() noexcept { return lock_->take_if_free(); }
  // Join the line; release() hands the lock over and wakes us.
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    lock_->waiters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::lock::acquire">);
  }
  // The guard, or cancelled_error (passing a lock handed to us on).
  guard await_resume();

 private:
  lock* lock_;
};

inline lock::acquire_operation lock::acquire() noexcept { return acquire_operation{*this}; }

// --- event -------------------------------------------------------------------

/// asyncio.Event: a flag that tasks can wait for.
class event {
 public:
  class wait_operation;

  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  /// Event.set(): sets the flag and wakes every waiter (scheduled, in FIFO order).
  void set() noexcept;
  /// Event.clear(): waiters from now on wait for the next set().
  void clear() noexcept { set_ = false; }
  [[nodiscard]] bool is_set() const noexcept { return set_; }
  /// Event.wait(): waits until the flag is set.
  /// Resumes: at once if it is set (no suspension); else at the iteration after set().
  /// Cancellation: cancelled_error; nothing is lost (the flag stays set for others).
  [[nodiscard]] wait_operation wait() noexcept;

 private:
  detail::waiter_list<> waiters_;
  bool set_ = false;
};

class event::wait_operation : detail::waiter {
 public:
  explicit wait_operation(event& e) noexcept : event_(&e) {}
  // Moved only before the await starts (see lock::acquire_operation).
  wait_operation(wait_operation&& o) noexcept : wait_operation(*o.event_) {}
  ~wait_operation() { detail::waiter_list<>::remove(this); }

  // A set event is not a suspension point (asyncio returns at once).
  bool await_ready() const noexcept { return event_->set_; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    event_->waiters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::event::wait">);
  }
  // Woken by set(), or cancelled.
  void await_resume() const;

 private:
  event* event_;
};

inline event::wait_operation event::wait() noexcept { return wait_operation{*this}; }

// --- condition ---------------------------------------------------------------

/// asyncio.Condition: wait() releases the lock, waits for notify(), and
/// re-acquires the lock before returning (even when cancelled).
/// By default it has a lock of its own; give it one to share (`condition c{l}`).
class condition {
 public:
  class notified_operation;

  condition() noexcept : lock_(&own_lock_) {}
  explicit condition(lock& l) noexcept : lock_(&l) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  /// The underlying lock's acquire(): `auto guard = co_await cond.acquire();`.
  [[nodiscard]] lock::acquire_operation acquire() noexcept { return lock_->acquire(); }
  void release() { lock_->release(); }
  [[nodiscard]] bool locked() const noexcept { return lock_->locked(); }

  /// Condition.wait(): releases the lock, waits until notified, re-acquires
  /// the lock (in FIFO order with the lock's other waiters).
  /// Resumes: holding the lock, after a notify() and once the lock is free.
  /// Cancellation: the lock is re-acquired first, then cancelled_error is
  /// thrown (so a guard in the caller stays valid). A notification already
  /// handed to this waiter passes on to the next one (asyncio 3.13).
  /// Throws: invalid_state_error if the lock is not held.
  task<> wait();
  /// Condition.wait_for(predicate): waits until `pred()` is true; returns its
  /// last value. The predicate is checked first, then after every wake-up,
  /// always with the lock held.
  template <class Pred>
  task<std::invoke_result_t<Pred&>> wait_for(Pred pred);
  /// Condition.notify(n): wakes up to n waiters (FIFO).
  /// Throws: invalid_state_error if the lock is not held.
  void notify(std::size_t n = 1);
  /// Condition.notify_all().
  void notify_all();

 private:
  friend class barrier;
  void wake(std::size_t n) noexcept;

  lock own_lock_;
  lock* lock_;
  detail::waiter_list<> waiters_;
};

/// The wait for a notification inside condition::wait().
class condition::notified_operation : detail::waiter {
 public:
  explicit notified_operation(condition& c) noexcept : cond_(&c) {}
  // Moved only before the await starts (see lock::acquire_operation).
  notified_operation(notified_operation&& o) noexcept : notified_operation(*o.cond_) {}
  ~notified_operation() { detail::waiter_list<>::remove(this); }
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    cond_->waiters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::condition::wait">);
  }
  void await_resume();

 private:
  condition* cond_;
};

template <class Pred>
task<std::invoke_result_t<Pred&>> condition::wait_for(Pred pred) {
  auto result = pred();
  while (!result) {
    co_await wait();
    result = pred();
  }
  co_return result;
}

// --- semaphore ---------------------------------------------------------------

/// asyncio.Semaphore: `value` permits; acquire() takes one, release() returns one.
/// Example: examples/08_semaphores.cpp
class semaphore {
 public:
  /// Holds one permit; returns it when destroyed. Movable. Empty after a
  /// failed try_acquire(), after release(), or when moved from.
  class [[nodiscard("the permit is returned when it is destroyed")]] permit {
   public:
    permit() noexcept = default;
    permit(permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
      if (this != &o) {
        release();
        sem_ = std::exchange(o.sem_, nullptr);
      }
      return *this;
    }
    ~permit() { release(); }
    /// Returns the permit now (idempotent).
    void release() noexcept {
      if (sem_ != nullptr) std::exchange(sem_, nullptr)->give_back();
    }
    [[nodiscard]] bool owns_permit() const noexcept { return sem_ != nullptr; }
    explicit operator bool() const noexcept { return owns_permit(); }

   private:
    friend class semaphore;
    explicit permit(semaphore* s) noexcept : sem_(s) {}
    semaphore* sem_ = nullptr;
  };

  class acquire_operation;

  /// Throws: value_error if `value` is negative.
  explicit semaphore(std::ptrdiff_t value = 1) : semaphore(value, false) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  /// Semaphore.acquire() / `async with sem`: waits for a permit and takes it.
  /// Resumes: at once if a permit is free and nobody waits (no suspension);
  /// else when release() hands one over, in FIFO order.
  /// Cancellation: leaves the line; a permit already handed over passes to
  /// the next waiter. The await throws cancelled_error and holds no permit.
  [[nodiscard]] acquire_operation acquire() noexcept;
  /// Takes a permit if one is free and nobody waits; else an empty permit.
  permit try_acquire() noexcept;
  /// Semaphore.release(): hands a permit to the first waiter, or adds one.
  /// Throws: value_error for a bounded_semaphore released beyond its initial value.
  void release();
  /// Semaphore.locked(): no permit can be taken without waiting.
  [[nodiscard]] bool locked() const noexcept { return value_ == 0; }
  /// The number of free permits (asyncio's _value).
  [[nodiscard]] std::ptrdiff_t value() const noexcept { return value_; }

 protected:
  semaphore(std::ptrdiff_t value, bool bounded);

 private:
  friend class permit;
  void give_back() noexcept;
  bool take_if_free() noexcept {
    if (value_ == 0) return false;  // waiters exist only while value_ == 0
    --value_;
    return true;
  }

  detail::waiter_list<> waiters_;
  std::ptrdiff_t value_;
  std::ptrdiff_t bound_;
  bool bounded_;
};

class semaphore::acquire_operation : detail::waiter {
 public:
  explicit acquire_operation(semaphore& s) noexcept : sem_(&s) {}
  // Moved only before the await starts (see lock::acquire_operation).
  acquire_operation(acquire_operation&& o) noexcept : acquire_operation(*o.sem_) {}
  ~acquire_operation() { detail::waiter_list<>::remove(this); }

  // A free permit is taken without suspending.
  bool await_ready() noexcept { return sem_->take_if_free(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    sem_->waiters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::semaphore::acquire">);
  }
  // The permit, or cancelled_error (passing a permit handed to us on).
  permit await_resume();

 private:
  semaphore* sem_;
};

inline semaphore::acquire_operation semaphore::acquire() noexcept { return acquire_operation{*this}; }

/// asyncio.BoundedSemaphore: release() beyond the initial value throws
/// value_error (a permit returned twice is a bug).
class bounded_semaphore : public semaphore {
 public:
  explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value, true) {}
};

// --- barrier -----------------------------------------------------------------

/// asyncio.Barrier: `parties` tasks wait until all have arrived, then all
/// proceed; the barrier then fills again (it is cyclic).
class barrier {
 public:
  /// Throws: value_error if parties < 1.
  explicit barrier(std::size_t parties);
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;

  /// Barrier.wait(): returns this task's arrival index, 0 .. parties-1 (the
  /// last to arrive gets parties-1 and releases the others).
  /// Resumes: when `parties` tasks have arrived; first waits for a previous
  /// cycle to drain.
  /// Cancellation: the task leaves the barrier (n_waiting() drops by one) and
  /// the await throws cancelled_error.
  /// Throws: broken_barrier_error if the barrier is aborted or reset meanwhile.
  task<std::size_t> wait();
  /// Barrier.reset(): back to the empty state; tasks waiting get broken_barrier_error.
  task<> reset();
  /// Barrier.abort(): breaks the barrier; waits now and later throw
  /// broken_barrier_error (until reset()).
  task<> abort();

  [[nodiscard]] std::size_t parties() const noexcept { return parties_; }
  /// Tasks waiting for the barrier to fill.
  [[nodiscard]] std::size_t n_waiting() const noexcept { return state_ == state::filling ? count_ : 0; }
  [[nodiscard]] bool broken() const noexcept { return state_ == state::broken; }

 private:
  enum class state : std::uint8_t { filling, draining, resetting, broken };
  void exit_one() noexcept;

  condition cond_;
  std::size_t parties_;
  std::size_t count_ = 0;
  state state_ = state::filling;
};

}  // namespace aio
