// Test helpers: run a coroutine on a fresh virtual-time loop, read the loop's
// clock in seconds, await a future expecting a cancel, count object lifetimes.
#pragma once

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace aio::test {

/// Runs `t` to completion with aio::run on a virtual-time loop: timers jump,
/// so sleeps cost no real time, and loop.time() reads simulated seconds.
template <class T>
T run_test(task<T> t) {
  return aio::run(std::move(t), aio::virtual_time);
}

/// The running loop's time in seconds (virtual time starts at 0).
inline double now_seconds() {
  return std::chrono::duration<double>(get_running_loop().time().time_since_epoch()).count();
}

/// The running loop's time in whole milliseconds.
inline long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(get_running_loop().time().time_since_epoch()).count();
}

/// "what@<loop time in ms>": test logs record when, not just what.
inline std::string stamp(const std::string& what) { return what + "@" + std::to_string(now_ms()); }

/// Awaits `f` and says whether it threw cancelled_error (any other exception
/// propagates). A co_await cannot sit inside CHECK, so tests await this first.
template <class T>
task<bool> await_is_cancelled(future<T> f) {
  try {
    (void)co_await f;
  } catch (const cancelled_error&) {
    co_return true;
  }
  co_return false;
}

/// Counts live instances, for lifetime and leak checks (cppcoro's counted).
struct counted {
  static inline int alive = 0;
  static inline int constructed = 0;
  int value = 0;
  counted(int v = 0) : value(v) { ++alive; ++constructed; }  // NOLINT(google-explicit-constructor)
  counted(const counted& o) : value(o.value) { ++alive; ++constructed; }
  counted(counted&& o) noexcept : value(o.value) { ++alive; ++constructed; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { --alive; }
  static void reset() { alive = 0; constructed = 0; }
};

}  // namespace aio::test
