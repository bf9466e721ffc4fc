// aio/timeouts.hpp — wait_for, wait_until and timeout_scope (asyncio's
// timeouts.py and wait_for), with timeout_error.
//
// The work runs inside the calling task, as in asyncio 3.11+: on expiry the
// task is cancelled (the work's current await throws cancelled_error), the work
// finishes its cancellation, and the scope turns that cancellation into
// timeout_error — unless someone else cancelled the task too, which
// cancelling()/uncancel() tell apart; then cancelled_error passes through.
//
// A result never gets lost to the deadline: if the work's wake-up is already
// queued when the deadline passes (it finished in the same iteration), it gets
// that iteration and its value is returned; if the work swallows the
// cancellation and returns a value, that value is returned (as in 3.12).
//
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/current_context.hpp>
#include <aio/detail/timer_queue.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace aio {

/// asyncio.timeout() / timeout_at(): a deadline for work run through run().
/// The deadline can be moved while the work runs (reschedule), e.g. by the
/// work itself. Neither copyable nor movable (the loop's timer lives in it
/// while the work runs).
/// Example: examples/09_timeouts.cpp
class timeout_scope {
 public:
  /// A deadline `delay` after the moment run() starts.
  template <class Rep, class Period>
  explicit timeout_scope(std::chrono::duration<Rep, Period> delay) noexcept
      : relative_(std::chrono::duration_cast<duration>(delay).count()) {}
  /// A deadline at loop time `when` (asyncio.timeout_at), or none (nullopt).
  static timeout_scope at(std::optional<time_point> when) noexcept { return timeout_scope{when}; }
  timeout_scope(const timeout_scope&) = delete;
  timeout_scope& operator=(const timeout_scope&) = delete;
  ~timeout_scope() { disarm(); }

  /// Runs `work` in the calling task under this deadline.
  /// Resumes: when the work finishes.
  /// Cancellation: an outer cancel reaches the work and comes out as cancelled_error.
  /// Throws: timeout_error if the deadline expired and cancelled the work;
  /// otherwise whatever the work throws.
  template <class T>
  task<T> run(task<T> work);

  /// Moves the deadline (asyncio's Timeout.reschedule); nullopt removes it.
  void reschedule(std::optional<time_point> when);
  /// The deadline, once known.
  [[nodiscard]] std::optional<time_point> when() const noexcept { return when_; }
  /// True once the deadline cancelled the work (asyncio's Timeout.expired()).
  [[nodiscard]] bool expired() const noexcept { return state_ == state::expiring || state_ == state::expired; }

 private:
  enum class state : std::uint8_t { created, entered, expiring, expired, exited };
  explicit timeout_scope(std::optional<time_point> when) noexcept : when_(when) {}

  struct deadline_timer : detail::timer_node {
    timeout_scope* scope = nullptr;
  };
  void enter(detail::task_context* ctx);
  void arm();
  void disarm() noexcept;
  /// On exit with cancelled_error: was it our own cancellation?
  bool caused_timeout() noexcept;
  /// On normal exit: balance our cancel request, if any.
  void exit_normally() noexcept;
  static void on_deadline(detail::timer_node* t) noexcept;
  void expire() noexcept;

  std::optional<std::int64_t> relative_;
  std::optional<time_point> when_;
  detail::task_context* ctx_ = nullptr;
  deadline_timer timer_{};
  std::uint32_t cancelling_at_enter_ = 0;
  state state_ = state::created;
  callback_handle expiry_;  // the deadline's decision, queued behind the other due timers
  bool deferred_ = false;
};

template <class T>
task<T> timeout_scope::run(task<T> work) {
  enter(co_await detail::current_context());
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(work);
      exit_normally();
    } else {
      auto&& v = co_await std::move(work);
      exit_normally();
      co_return std::forward<decltype(v)>(v);
    }
  } catch (const cancelled_error&) {
    if (caused_timeout()) throw timeout_error{};
    throw;
  } catch (...) {
    exit_normally();
    throw;
  }
}

namespace detail {
template <class T>
task<T> await_future(future<T> f) {
  co_return co_await f;
}
}  // namespace detail

/// asyncio.wait_for(aw, timeout): runs `work` with a deadline `timeout` from now.
/// On expiry the work is cancelled, awaited until it has finished, and
/// timeout_error is thrown; a result ready by then is returned instead.
/// Cancellation: an outer cancel surfaces as cancelled_error, not timeout_error.
/// Example: examples/09_timeouts.cpp
template <class T, class Rep, class Period>
task<T> wait_for(task<T> work, std::chrono::duration<Rep, Period> timeout) {
  timeout_scope scope{timeout};
  co_return co_await scope.run(std::move(work));
}
/// The same for a future: on expiry the future (and the task behind it) is cancelled.
template <class T, class Rep, class Period>
task<T> wait_for(future<T> f, std::chrono::duration<Rep, Period> timeout) {
  return wait_for(detail::await_future(std::move(f)), timeout);
}
/// wait_for with an absolute deadline on the loop's clock.
template <class T>
task<T> wait_until(task<T> work, time_point deadline) {
  auto scope = timeout_scope::at(deadline);
  co_return co_await scope.run(std::move(work));
}
template <class T>
task<T> wait_until(future<T> f, time_point deadline) {
  return wait_until(detail::await_future(std::move(f)), deadline);
}

}  // namespace aio
