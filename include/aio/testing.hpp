// aio/testing.hpp — run a coroutine as a test (pytest-asyncio's
// @pytest.mark.asyncio, unittest's IsolatedAsyncioTestCase), on virtual time,
// and fail it for what asyncio would only warn about.
//
//     aio::task<void> nap(aio::duration d) { co_await aio::sleep(d); }
//
//     aio::task<void> three_naps_take_one_second() {
//       co_await aio::gather(nap(1s), nap(1s), nap(1s));
//       aio::testing::require_elapsed(1s);    // exact: virtual time does not drift
//     }
//
//     aio::testing::run(three_naps_take_one_second());   // microseconds of real time
//
// aio::testing::run gives each test a fresh loop on virtual time: timers jump
// when nothing else can happen, so an hour of sleeps costs microseconds, and
// loop.time() reads the simulated seconds (starting at zero). While I/O or
// thread-pool work is pending, time flows in real time instead (see
// event_loop.hpp), so a timeout cannot fire under a reply that is in flight.
//
// After the test's coroutine returns, the test fails (aio::testing::test_failure)
// if it left tasks pending, or if aio reported anything through aio::log while
// it ran: "exception was never retrieved", an exception escaping a callback, a
// task_group destroyed while pending... Those are bugs asyncio only logs; in a
// test they are failures. An exception thrown by the test itself wins: it
// propagates unchanged, and the reports go on to the log handler that was
// installed before (stderr by default).
//
// This header does not depend on any test framework. For Catch2, see
// <aio/catch2.hpp> (AIO_TEST_CASE). Example: examples/14_testing.cpp
//
// Loop-affine, not thread-safe: call everything here on the test's thread.
#pragma once

#include <aio/event_loop.hpp>
#include <aio/task.hpp>

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace aio::testing {

/// What a test fails with when aio::testing finds a problem: tasks left
/// pending, an exception never retrieved, an elapsed time that is off. A
/// std::exception (any framework reports its what()), but not a
/// std::runtime_error, so that code under test catching runtime errors does not
/// swallow it.
class test_failure : public std::exception {
 public:
  explicit test_failure(std::string message);
  [[nodiscard]] const char* what() const noexcept override;

 private:
  std::shared_ptr<const std::string> message_;  // shared: copying an exception must not throw
};

/// How strict aio::testing::run is. The defaults suit almost every test.
struct options {
  /// Fail if tasks made with create_task are still pending when the test
  /// returns. They are cancelled and awaited either way.
  bool fail_on_pending_tasks = true;
  /// Fail if aio reports anything through aio::log during the test. When off,
  /// the reports go to the handler installed before the test (stderr by default).
  /// A test can also install its own handler (aio::set_log_handler) for a
  /// while: what it captures is its own business.
  bool fail_on_log_reports = true;
};

/// Runs `test` to completion on a fresh virtual-time loop, then cancels and
/// awaits the tasks it left behind and closes the loop, as aio::run does — and
/// checks the test left nothing behind.
/// asyncio: @pytest.mark.asyncio / IsolatedAsyncioTestCase, stricter.
/// Returns: the test's value.
/// Throws: what the test throws (unchanged; the checks are skipped);
/// aio::deadlock_error if it can never finish; test_failure naming the tasks
/// left pending and quoting every aio::log report, if the test returned but
/// left them; invalid_state_error if a loop is already running on this thread.
/// Example: examples/14_testing.cpp
template <class T>
T run(task<T> test, options opts = {});

/// Where a check was called from; filled in by its default argument. (Not
/// std::source_location: clang 14 with libstdc++ 12 does not provide it.)
struct call_site {
  const char* file = "";
  unsigned line = 0;
  static constexpr call_site here(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) noexcept {
    return {file, line};
  }
};

// --- Elapsed loop time -------------------------------------------------------
//
// Both read aio::clock, i.e. the running loop's time: virtual inside
// aio::testing::run (exact, so the default tolerance is zero), steady on a
// real-time loop (give a tolerance).

/// Loop time since the current aio::testing::run started the test.
/// Throws: invalid_state_error outside aio::testing::run (use a stopwatch there).
[[nodiscard]] duration elapsed();
/// The same in seconds, as asyncio tests read `loop.time() - start`.
[[nodiscard]] double elapsed_seconds();
/// Fails the test unless elapsed() is within `tolerance` of `expected`.
/// Throws: test_failure saying what was expected, what elapsed, and where.
void require_elapsed(duration expected, duration tolerance = duration::zero(),
                     call_site where = call_site::here());

/// Measures loop time from its construction (or restart()).
class stopwatch {
 public:
  stopwatch() noexcept;
  /// Loop time since the start.
  [[nodiscard]] duration elapsed() const noexcept;
  /// The same in seconds.
  [[nodiscard]] double seconds() const noexcept;
  /// Starts again from now.
  void restart() noexcept;
  /// Fails the test unless elapsed() is within `tolerance` of `expected`.
  /// Throws: test_failure saying what was expected, what elapsed, and where.
  void require_elapsed(duration expected, duration tolerance = duration::zero(),
                       call_site where = call_site::here()) const;

 private:
  time_point start_;
};

namespace detail {

/// The non-template part of run(): owns the test's loop, captures aio::log
/// while it lives, and performs the end-of-test checks.
class test_session {
 public:
  explicit test_session(options opts);
  test_session(const test_session&) = delete;
  test_session& operator=(const test_session&) = delete;
  /// If check() was not reached (the test threw): cancels what is left,
  /// closes the loop, restores the log handler and passes the reports on to it.
  ~test_session();

  [[nodiscard]] event_loop& loop() noexcept { return loop_; }
  /// After the test returned: notes the pending tasks, cancels and awaits
  /// them, closes the loop, restores the log handler.
  /// Throws: test_failure if the options say what it found is a failure.
  void check();

 private:
  struct state;
  void finish() noexcept;

  options opts_;
  std::unique_ptr<state> state_;
  event_loop loop_{virtual_time};
};

}  // namespace detail

template <class T>
T run(task<T> test, options opts) {
  detail::test_session session{opts};
  if constexpr (std::is_void_v<T>) {
    session.loop().run_until_complete(std::move(test));
    session.check();
  } else {
    T result = session.loop().run_until_complete(std::move(test));
    session.check();
    return result;  // moves a value; a T& stays a reference
  }
}

}  // namespace aio::testing
