// Tests for aio/timeouts.hpp: wait_for, wait_until and timeout_scope (asyncio's
// wait_for, timeout and timeout_at). Everything runs on virtual time, so each
// deadline is asserted to the millisecond of loop time. Most tests are
// AIO_TEST_CASEs; the first few run their own loop, to check it is left idle.
#include <aio/timeouts.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/catch2.hpp>

#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- result types ------------------------------------------------------------

namespace {
template <class T> T make();  // for decltype only
}  // namespace

static_assert(std::is_same_v<decltype(aio::wait_for(make<aio::task<int>>(), 1s)), aio::task<int>>);
static_assert(std::is_same_v<decltype(aio::wait_for(make<aio::task<void>>(), 1500ms)), aio::task<void>>);
static_assert(std::is_same_v<decltype(aio::wait_for(make<aio::future<std::string>>(), 1s)), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(aio::wait_until(make<aio::task<int>>(), aio::time_point{})), aio::task<int>>);
static_assert(std::is_same_v<decltype(aio::wait_until(make<aio::future<int>>(), aio::time_point{})), aio::task<int>>);
static_assert(std::is_same_v<decltype(make<aio::timeout_scope&>().run(make<aio::task<long>>())), aio::task<long>>);
static_assert(std::is_same_v<decltype(make<const aio::timeout_scope&>().when()), std::optional<aio::time_point>>);
static_assert(!std::is_copy_constructible_v<aio::timeout_scope> && !std::is_copy_assignable_v<aio::timeout_scope>);
static_assert(std::is_base_of_v<std::runtime_error, aio::timeout_error>);
static_assert(!std::is_base_of_v<std::exception, aio::cancelled_error>);

namespace {

using log_t = std::vector<std::string>;
using aio::test::now_seconds;

using aio::test::now_ms;
using aio::test::stamp;

aio::task<int> value_after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}
aio::task<void> void_after(aio::duration d) { co_await aio::sleep(d); }
/// Sleeps `d` and returns `v`; logs a cancellation (its cleanup) and rethrows it.
aio::task<int> logs_cancel(log_t& log, std::string name, aio::duration d, int v) {
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp(name + " cancelled"));
    throw;
  }
  co_return v;
}

/// Runs `main` on a fresh virtual-time loop; afterwards the loop must be idle:
/// no timer left armed (run_forever reports a deadlock at once, without moving
/// the clock). Returns main's value; `end` receives the loop time at the end.
template <class T>
T run_and_expect_idle(aio::task<T> main, aio::time_point& end) {
  aio::event_loop loop{aio::virtual_time};
  struct finish {
    aio::event_loop& loop;
    aio::time_point& end;
    ~finish() {
      end = loop.time();
      CHECK(loop.pending_tasks() == 0);
      CHECK_THROWS_AS(loop.run_forever(), aio::deadlock_error);  // nothing armed, nothing queued
      CHECK(loop.time() == end);
    }
  } f{loop, end};
  return loop.run_until_complete(std::move(main));
}

}  // namespace

// --- the guide's example ----------------------------------------------------------

namespace {
aio::task<std::string> slow_operation(log_t& log) {
  try {
    co_await aio::sleep(5s);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("slow_operation cleanup"));
    throw;
  }
  co_return "Result";
}
aio::task<void> guide_example_main(log_t& log) {
  try {
    std::string result = co_await aio::wait_for(slow_operation(log), 2s);
    log.push_back(stamp(result));
  } catch (const aio::timeout_error& e) {
    log.push_back(stamp("Operation timed out"));
    CHECK(std::string(e.what()).find("deadline") != std::string::npos);
  }
}
}  // namespace

TEST_CASE("wait_for (the guide's example): the work is cancelled, then timeout_error at the deadline",
          "[timeouts]") {
  log_t log;
  aio::time_point end{};
  run_and_expect_idle(guide_example_main(log), end);
  // The work saw cancelled_error and cleaned up before timeout_error was thrown.
  CHECK(log == log_t{"slow_operation cleanup@2000", "Operation timed out@2000"});
  CHECK(end == aio::time_point{2s});
}

// --- results before and at the deadline --------------------------------------------

namespace {
aio::task<int> wait_for_in_time_main() {
  const int v = co_await aio::wait_for(value_after(1s, 5), 3s);
  CHECK(now_seconds() == 1.0);  // the work's own time, not the deadline's
  // The deadline's timer is gone: sleeping past it cancels nothing.
  co_await aio::sleep(5s);
  CHECK(now_seconds() == 6.0);
  co_await aio::wait_for(void_after(1s), 2s);  // a void result
  CHECK(now_seconds() == 7.0);
  co_return v;
}
aio::task<int> exact_deadline_main() {
  const int v = co_await aio::wait_for(value_after(2s, 7), 2s);  // the work's wake-up and the deadline coincide
  CHECK(now_seconds() == 2.0);
  co_return v;
}
aio::task<int> exact_deadline_future_main() {
  aio::future<int> f;
  // Completed by a timer armed before the deadline's, due at the same time.
  auto h = aio::get_running_loop().call_at(aio::time_point{2s}, [f]() mutable { f.set_result(8); });
  const int v = co_await aio::wait_for(f, 2s);
  CHECK(now_seconds() == 2.0);
  co_return v;
}
aio::task<int> swallows_cancel(log_t& log) {
  try {
    co_await aio::sleep(5s);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("swallowed"));
  }
  co_return 99;
}
aio::task<int> swallow_main(log_t& log) {
  const int v = co_await aio::wait_for(swallows_cancel(log), 2s);
  log.push_back(stamp("returned " + std::to_string(v)));
  co_await aio::sleep(1s);  // no cancel left pending on the task
  co_return v;
}
}  // namespace

TEST_CASE("wait_for: work finishing in time returns its value at its own time, and the timer is gone",
          "[timeouts]") {
  aio::time_point end{};
  CHECK(run_and_expect_idle(wait_for_in_time_main(), end) == 5);
  CHECK(end == aio::time_point{7s});
  // As the whole program: the loop ends when the work does, with nothing left armed.
  aio::time_point end2{};
  CHECK(run_and_expect_idle(aio::wait_for(value_after(1s, 5), 3s), end2) == 5);
  CHECK(end2 == aio::time_point{1s});
}

TEST_CASE("wait_for: a result ready in the same iteration as the deadline is returned", "[timeouts]") {
  SECTION("the work sleeps exactly the timeout") {
    aio::time_point end{};
    CHECK(run_and_expect_idle(exact_deadline_main(), end) == 7);
    CHECK(end == aio::time_point{2s});
  }
  SECTION("a future completed by a timer due at the deadline") {
    aio::time_point end{};
    CHECK(run_and_expect_idle(exact_deadline_future_main(), end) == 8);
    CHECK(end == aio::time_point{2s});
  }
}

TEST_CASE("wait_for: work that swallows the cancellation and returns a value gives that value", "[timeouts]") {
  log_t log;
  aio::time_point end{};
  CHECK(run_and_expect_idle(swallow_main(log), end) == 99);
  CHECK(log == log_t{"swallowed@2000", "returned 99@2000"});
  CHECK(end == aio::time_point{3s});
}

// --- cancelling() bookkeeping, outer cancels ------------------------------------------

namespace {
/// A task that can see its own future (asyncio's current_task()).
struct self_ref {
  std::optional<aio::future<int>> fut;
  std::uint32_t cancelling() const { return fut->cancelling(); }
};
aio::task<int> logs_cancel_with_count(log_t& log, self_ref& self, aio::duration d) {
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("work cancelled, cancelling=" + std::to_string(self.cancelling())));
    throw;
  }
  co_return 1;
}
aio::task<int> inside_wait_for(log_t& log, self_ref& self) {
  try {
    co_return co_await aio::wait_for(logs_cancel_with_count(log, self, 5s), 3s);
  } catch (const aio::timeout_error&) {
    log.push_back(stamp("timeout_error"));
    throw;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("cancelled_error, cancelling=" + std::to_string(self.cancelling())));
    throw;
  }
}
aio::task<int> timeout_then_continue(log_t& log, self_ref& self) {
  try {
    co_return co_await aio::wait_for(logs_cancel_with_count(log, self, 5s), 2s);
  } catch (const aio::timeout_error&) {
    log.push_back(stamp("timeout_error, cancelling=" + std::to_string(self.cancelling())));
  }
  co_await aio::sleep(1s);  // the scope took its cancel back: the task goes on normally
  // A second deadline in the same task works the same way.
  try {
    co_return co_await aio::wait_for(logs_cancel_with_count(log, self, 5s), 1s);
  } catch (const aio::timeout_error&) {
    log.push_back(stamp("second timeout_error, cancelling=" + std::to_string(self.cancelling())));
  }
  co_return 0;
}
aio::task<int> slow_cleanup_after_cancel(log_t& log) {
  try {
    co_await aio::sleep(5s);
    co_return 1;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("deadline cancel seen"));
  }
  try {
    co_await aio::sleep(1s);  // cleanup, interrupted by the outer cancel
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("outer cancel seen"));
    throw;
  }
  throw aio::cancelled_error{};
}
aio::task<int> both_cancels_inner(log_t& log) {
  try {
    co_return co_await aio::wait_for(slow_cleanup_after_cancel(log), 2s);
  } catch (const aio::timeout_error&) {
    log.push_back(stamp("timeout_error"));
    throw;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("cancelled_error"));
    throw;
  }
}
}  // namespace

AIO_TEST_CASE("wait_for: an outer cancel surfaces as cancelled_error, not timeout_error", "[timeouts]") {
  log_t log;
  self_ref self;
  self.fut = aio::create_task(inside_wait_for(log, self));
  aio::future<int> t = *self.fut;
  co_await aio::sleep(1s);
  CHECK(t.cancel());
  CHECK(t.cancelling() == 1);
  const bool cancelled = co_await aio::test::await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(now_seconds() == 1.0);
  CHECK(t.cancelled());
  CHECK(t.cancelling() == 1);  // the outer request stays counted; the scope added and took back nothing
  CHECK(log == log_t{"work cancelled, cancelling=1@1000", "cancelled_error, cancelling=1@1000"});
  // The deadline (3 s) was disarmed with the scope: nothing fires later.
  co_await aio::sleep(5s);
  CHECK(now_seconds() == 6.0);
}

AIO_TEST_CASE("wait_for: after a timeout the task's cancelling() is back to zero and it goes on", "[timeouts]") {
  log_t log;
  self_ref self;
  self.fut = aio::create_task(timeout_then_continue(log, self));
  const int v = co_await *self.fut;
  CHECK(v == 0);
  CHECK(now_seconds() == 4.0);
  CHECK(!self.fut->cancelled());
  CHECK(self.fut->cancelling() == 0);
  CHECK(log == log_t{"work cancelled, cancelling=1@2000", "timeout_error, cancelling=0@2000",
                     "work cancelled, cancelling=1@4000", "second timeout_error, cancelling=0@4000"});
}

AIO_TEST_CASE("wait_for: an outer cancel during the expiry's cleanup still gives cancelled_error", "[timeouts]") {
  log_t log;
  auto t = aio::create_task(both_cancels_inner(log));
  co_await aio::sleep(2500ms);  // the deadline passed at 2 s; the work is still cleaning up
  t.cancel();
  const bool cancelled = co_await aio::test::await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(t.cancelling() == 1);
  // Someone else cancelled too: cancelled_error, not timeout_error.
  CHECK(log == log_t{"deadline cancel seen@2000", "outer cancel seen@2500", "cancelled_error@2500"});
}

// --- futures, wait_until ------------------------------------------------------------

AIO_TEST_CASE("wait_for on a future cancels the future (and its task) on expiry", "[timeouts]") {
  log_t log;
  auto f = aio::create_task(logs_cancel(log, "task", 5s, 1));
  bool timed_out = false;
  try {
    (void)co_await aio::wait_for(f, 2s);
  } catch (const aio::timeout_error&) {
    timed_out = true;
    CHECK(now_seconds() == 2.0);
    CHECK(f.done());  // cancelled and finished before timeout_error
    CHECK(f.cancelled());
  }
  CHECK(timed_out);
  CHECK(log == log_t{"task cancelled@2000"});

  aio::future<int> plain;
  timed_out = false;
  try {
    (void)co_await aio::wait_for(plain, 1s);
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(now_seconds() == 3.0);
  CHECK(plain.cancelled());

  auto g = aio::create_task(value_after(1s, 4));
  const int v = co_await aio::wait_for(g, 10s);
  CHECK(v == 4);
  CHECK(now_seconds() == 4.0);
  CHECK(!g.cancelled());
}

AIO_TEST_CASE("wait_until takes an absolute deadline on the loop's clock", "[timeouts]") {
  log_t log;
  bool timed_out = false;
  try {
    (void)co_await aio::wait_until(logs_cancel(log, "work", 5s, 1), aio::time_point{2s});
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(now_seconds() == 2.0);
  CHECK(log == log_t{"work cancelled@2000"});

  const int v = co_await aio::wait_until(value_after(1s, 3), aio::time_point{4s});
  CHECK(v == 3);
  CHECK(now_seconds() == 3.0);

  auto f = aio::create_task(value_after(5s, 1));
  timed_out = false;
  try {
    (void)co_await aio::wait_until(f, aio::time_point{3500ms});
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(now_seconds() == 3.5);
  CHECK(f.cancelled());

  // A deadline already in the past expires at the first suspension.
  timed_out = false;
  try {
    (void)co_await aio::wait_until(value_after(1s, 1), aio::time_point{1s});
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(now_seconds() == 3.5);
}

// --- timeout_scope ------------------------------------------------------------------

namespace {
aio::task<int> extends_own_deadline(aio::timeout_scope& scope) {
  co_await aio::sleep(1s);
  CHECK(scope.when() == aio::time_point{2s});
  scope.reschedule(aio::get_running_loop().time() + 5s);  // 6 s
  co_await aio::sleep(3s);                                 // past the first deadline
  co_return 7;
}
aio::task<int> drops_own_deadline(aio::timeout_scope& scope) {
  co_await aio::sleep(1s);
  scope.reschedule(std::nullopt);
  co_await aio::sleep(9s);
  co_return 8;
}
aio::task<int> brings_deadline_forward(aio::timeout_scope& scope) {
  co_await aio::sleep(1s);
  scope.reschedule(aio::get_running_loop().time() + 500ms);
  co_await aio::sleep(9s);
  co_return 9;
}
}  // namespace

AIO_TEST_CASE("timeout_scope: reschedule() moves or removes the deadline while the work runs", "[timeouts]") {
  {
    aio::timeout_scope scope{2s};
    CHECK(!scope.when());  // relative: known once run() starts
    CHECK(!scope.expired());
    const int v = co_await scope.run(extends_own_deadline(scope));
    CHECK(v == 7);
    CHECK(now_seconds() == 4.0);
    CHECK(!scope.expired());
    CHECK(scope.when() == aio::time_point{6s});
    CHECK_THROWS_AS(scope.reschedule(aio::time_point{10s}), aio::invalid_state_error);  // the work is over
  }
  {
    aio::timeout_scope scope{2s};
    const int v = co_await scope.run(drops_own_deadline(scope));
    CHECK(v == 8);
    CHECK(now_seconds() == 14.0);
    CHECK(!scope.expired());
    CHECK(!scope.when());
  }
  {
    aio::timeout_scope scope{10s};
    bool timed_out = false;
    try {
      (void)co_await scope.run(brings_deadline_forward(scope));
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(now_seconds() == 15.5);
    CHECK(scope.expired());
    CHECK(scope.when() == aio::time_point{15500ms});
  }
}

AIO_TEST_CASE("timeout_scope: expired(), when(), at() and one run per scope", "[timeouts]") {
  log_t log;
  {
    aio::timeout_scope scope{1s};
    bool timed_out = false;
    try {
      (void)co_await scope.run(logs_cancel(log, "a", 5s, 1));
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(scope.expired());
    CHECK(scope.when() == aio::time_point{1s});
    CHECK_THROWS_AS(scope.reschedule(aio::time_point{10s}), aio::invalid_state_error);
  }
  {
    auto scope = aio::timeout_scope::at(aio::time_point{3s});
    CHECK(scope.when() == aio::time_point{3s});  // absolute: known at once
    bool timed_out = false;
    try {
      (void)co_await scope.run(logs_cancel(log, "b", 5s, 1));
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(scope.expired());
    CHECK(now_seconds() == 3.0);
  }
  {
    auto scope = aio::timeout_scope::at(std::nullopt);  // no deadline at all
    const int v = co_await scope.run(value_after(100s, 5));
    CHECK(v == 5);
    CHECK(!scope.expired());
    CHECK(!scope.when());
  }
  {
    auto scope = aio::timeout_scope::at(aio::time_point{200s});
    const int v = co_await scope.run(value_after(1s, 6));  // finishes first
    CHECK(v == 6);
    CHECK(!scope.expired());
    CHECK(now_seconds() == 104.0);
  }
  {
    aio::timeout_scope scope{1s};
    (void)co_await scope.run(value_after(0s, 1));
    bool threw = false;
    try {
      (void)co_await scope.run(value_after(0s, 2));  // a scope guards one piece of work
    } catch (const aio::invalid_state_error&) {
      threw = true;
    }
    CHECK(threw);
  }
  CHECK(log == log_t{"a cancelled@1000", "b cancelled@3000"});
}

// --- nesting, exceptions ---------------------------------------------------------------

namespace {
aio::task<int> run_in_scope(log_t& log, std::string name, aio::timeout_scope& scope, aio::task<int> work) {
  try {
    co_return co_await scope.run(std::move(work));
  } catch (const aio::timeout_error&) {
    log.push_back(stamp(name + " saw timeout_error"));
    throw;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp(name + " saw cancelled_error"));
    throw;
  }
}
aio::task<int> fallback_on_timeout(aio::duration work, aio::duration timeout) {
  try {
    co_return co_await aio::wait_for(value_after(work, 1), timeout);
  } catch (const aio::timeout_error&) {
  }
  co_return -1;
}
struct custom_error : std::logic_error {
  using std::logic_error::logic_error;
};
aio::task<int> throws_after(aio::duration d) {
  co_await aio::sleep(d);
  throw custom_error("from the work");
}
aio::task<int> awaits_plain(aio::future<int> f) { co_return co_await f; }
}  // namespace

AIO_TEST_CASE("nested timeout scopes: the shorter deadline raises, the other passes it on", "[timeouts]") {
  log_t log;
  {  // The inner deadline is the shorter: it raises; the outer passes its error through.
    aio::timeout_scope outer{5s};
    aio::timeout_scope inner{1s};
    bool timed_out = false;
    try {
      (void)co_await run_in_scope(log, "outer", outer,
                                  run_in_scope(log, "inner", inner, logs_cancel(log, "work", 10s, 1)));
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(now_seconds() == 1.0);
    CHECK(inner.expired());
    CHECK(!outer.expired());
    CHECK(log == log_t{"work cancelled@1000", "inner saw timeout_error@1000", "outer saw timeout_error@1000"});
  }
  log.clear();
  {  // The outer deadline is the shorter: the inner scope lets the cancellation through, the outer raises.
    aio::timeout_scope outer{1s};
    aio::timeout_scope inner{5s};
    bool timed_out = false;
    try {
      (void)co_await run_in_scope(log, "outer", outer,
                                  run_in_scope(log, "inner", inner, logs_cancel(log, "work", 10s, 1)));
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(now_seconds() == 2.0);
    CHECK(!inner.expired());
    CHECK(outer.expired());
    CHECK(log == log_t{"work cancelled@2000", "inner saw cancelled_error@2000", "outer saw timeout_error@2000"});
  }
}

AIO_TEST_CASE("nested wait_for: inner shorter and outer shorter", "[timeouts]") {
  // Inner shorter: the inner timeout is handled inside; the outer scope never fires.
  int v = co_await aio::wait_for(fallback_on_timeout(10s, 1s), 5s);
  CHECK(v == -1);
  CHECK(now_seconds() == 1.0);
  // Outer shorter: the inner wait_for must not turn the outer's cancel into its own timeout.
  bool timed_out = false;
  try {
    v = co_await aio::wait_for(fallback_on_timeout(10s, 5s), 1s);
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(now_seconds() == 2.0);
  // Both in time.
  v = co_await aio::wait_for(fallback_on_timeout(1s, 5s), 3s);
  CHECK(v == 1);
  CHECK(now_seconds() == 3.0);
}

AIO_TEST_CASE("wait_for passes the work's exceptions through unchanged", "[timeouts]") {
  std::string message;
  try {
    (void)co_await aio::wait_for(throws_after(1s), 5s);
  } catch (const custom_error& e) {
    message = e.what();
  }
  CHECK(message == "from the work");
  CHECK(now_seconds() == 1.0);
  co_await aio::sleep(10s);  // the deadline was disarmed: nothing fires at 6 s
  CHECK(now_seconds() == 11.0);

  // A cancelled_error the work raises itself (a future it awaits was
  // cancelled by someone else) is not a timeout: it passes through.
  aio::future<int> plain;
  auto h = aio::get_running_loop().call_later(1s, [plain]() mutable { plain.cancel(); });
  bool cancelled = false;
  try {
    (void)co_await aio::wait_for(awaits_plain(plain), 5s);
  } catch (const aio::cancelled_error&) {
    cancelled = true;
  }
  CHECK(cancelled);
  CHECK(now_seconds() == 12.0);
}
