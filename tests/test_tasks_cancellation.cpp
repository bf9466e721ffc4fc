// Tests for cancellation in aio/tasks.hpp: shield, and cancelling a task
// suspended in sleep, on a future, in gather, in yield, or before its first
// step (asyncio's Task.cancel semantics). Split from test_tasks.cpp to keep each
// file short. Everything runs on virtual time (aio::test::run_test).
#include <aio/tasks.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/exceptions.hpp>
#include <aio/future.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- types -------------------------------------------------------------------

namespace {
template <class T> T make();  // for decltype only
}  // namespace

static_assert(std::is_same_v<decltype(aio::shield(make<aio::future<int>>()).await_resume()), int>);
static_assert(std::is_same_v<decltype(aio::shield(make<aio::future<std::string>>()).await_resume()), std::string>);
static_assert(std::is_same_v<decltype(make<aio::future<int>&>().cancel()), bool>);
static_assert(std::is_same_v<decltype(make<const aio::future<int>&>().cancelling()), std::uint32_t>);
static_assert(noexcept(std::declval<aio::future<int>&>().cancel()));

namespace {

using log_t = std::vector<std::string>;
using aio::test::await_is_cancelled;
using aio::test::now_seconds;

using aio::test::now_ms;
using aio::test::stamp;

aio::task<int> value_after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}
aio::task<void> record(log_t& log, std::string name) {
  log.push_back(std::move(name));
  co_return;
}
/// Sleeps `d` and returns `v`; if cancelled, logs it and rethrows.
aio::task<int> logs_cancel(log_t& log, std::string name, aio::duration d, int v) {
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp(name + " cancelled"));
    throw;
  }
  co_return v;
}

}  // namespace

// --- shield --------------------------------------------------------------------

namespace {
aio::task<int> shielded_work(log_t& log) {
  co_await aio::sleep(3s);
  log.push_back(stamp("shielded work done"));
  co_return 42;
}
aio::task<int> shield_future_awaiter(log_t& log, aio::future<int> inner) {
  try {
    co_return co_await aio::shield(inner);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("awaiter cancelled"));
    throw;
  }
}
aio::task<int> shield_task_awaiter(log_t& log) {
  try {
    co_return co_await aio::shield(shielded_work(log));
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("awaiter cancelled"));
    throw;
  }
}
aio::task<void> shield_main() {
  log_t log;
  auto inner = aio::create_task(shielded_work(log));
  auto outer = aio::create_task(shield_future_awaiter(log, inner));
  co_await aio::sleep(1s);
  CHECK(outer.cancel());
  bool threw = false;
  try {
    (void)co_await outer;
  } catch (const aio::cancelled_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(now_seconds() == 1.0);  // the awaiter gave up at once...
  CHECK(outer.cancelled());
  CHECK(!inner.done());  // ...and the shielded task runs on, not even asked to cancel
  CHECK(inner.cancelling() == 0);
  const int v = co_await inner;
  CHECK(v == 42);
  CHECK(now_seconds() == 3.0);
  CHECK(log == log_t{"awaiter cancelled@1000", "shielded work done@3000"});

  // Shielding a task makes it a task of its own, which outlives the awaiter's cancel.
  log.clear();
  auto outer2 = aio::create_task(shield_task_awaiter(log));
  co_await aio::sleep(1s);
  outer2.cancel();
  co_await aio::sleep(0s);
  CHECK(outer2.cancelled());
  CHECK(aio::get_running_loop().pending_tasks() == 2);  // main and the shielded task
  co_await aio::sleep(5s);
  CHECK(log == log_t{"awaiter cancelled@4000", "shielded work done@6000"});
  CHECK(aio::get_running_loop().pending_tasks() == 1);

  // Not cancelled: shield is a plain await.
  const int w = co_await aio::shield(aio::create_task(value_after(1s, 5)));
  CHECK(w == 5);
}
}  // namespace

TEST_CASE("shield: cancelling the awaiter throws at once, the shielded task runs to completion", "[tasks]") {
  aio::test::run_test(shield_main());
}

// --- cancelling a task ------------------------------------------------------------

namespace {
aio::task<void> cancel_in_sleep_main() {
  log_t log;
  auto t = aio::create_task(logs_cancel(log, "sleeper", 5s, 1));
  co_await aio::sleep(1s);
  CHECK(!t.done());
  CHECK(t.cancel());
  CHECK(t.cancelling() == 1);
  CHECK(!t.done());  // the cancel is delivered when the task resumes
  CHECK(!t.cancelled());
  const bool cancelled = co_await await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(now_seconds() == 1.0);
  CHECK(t.done());
  CHECK(t.cancelled());
  CHECK(!t.cancel());  // done: nothing to cancel
  CHECK_THROWS_AS(t.result(), aio::cancelled_error);
  CHECK_THROWS_AS(t.exception(), aio::cancelled_error);
  CHECK(log == log_t{"sleeper cancelled@1000"});
}
aio::task<int> awaits_future(log_t& log, std::string name, aio::future<int> f) {
  try {
    co_return co_await f;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp(name + " cancelled"));
    throw;
  }
}
aio::task<void> cancel_in_future_main() {
  log_t log;
  aio::future<int> plain;
  auto t = aio::create_task(awaits_future(log, "waiter", plain));
  co_await aio::sleep(1s);
  CHECK(t.cancel());
  const bool cancelled = co_await await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(now_seconds() == 1.0);
  CHECK((t.done() && t.cancelled()));
  CHECK(plain.cancelled());  // asyncio: cancelling a task cancels the future it awaits

  // Awaiting another task: that task is cancelled too.
  log.clear();
  auto inner = aio::create_task(logs_cancel(log, "inner", 5s, 1));
  auto t2 = aio::create_task(awaits_future(log, "outer", inner));
  co_await aio::sleep(1s);
  t2.cancel();
  const bool cancelled2 = co_await await_is_cancelled(t2);
  CHECK(cancelled2);
  CHECK(now_seconds() == 2.0);
  CHECK((inner.done() && inner.cancelled()));
  CHECK((t2.done() && t2.cancelled()));
  CHECK(log == log_t{"inner cancelled@2000", "outer cancelled@2000"});
}
aio::task<int> gatherer(log_t& log, aio::future<int> f) {
  try {
    auto [a, b, c] = co_await aio::gather(logs_cancel(log, "a", 5s, 1), logs_cancel(log, "b", 6s, 2), f);
    co_return a + b + c;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("gatherer cancelled"));
    throw;
  }
}
aio::task<void> cancel_in_gather_main() {
  log_t log;
  auto f = aio::create_task(logs_cancel(log, "f", 7s, 3));
  auto g = aio::create_task(gatherer(log, f));
  co_await aio::sleep(1s);
  CHECK(g.cancel());
  CHECK(!g.done());
  const bool cancelled = co_await await_is_cancelled(g);
  CHECK(cancelled);
  CHECK(now_seconds() == 1.0);
  CHECK((g.done() && g.cancelled()));
  CHECK((f.done() && f.cancelled()));  // a future child is cancelled too
  // Every child saw cancelled_error and finished before the gatherer did.
  CHECK(log == log_t{"a cancelled@1000", "b cancelled@1000", "f cancelled@1000", "gatherer cancelled@1000"});
  CHECK(aio::get_running_loop().pending_tasks() == 1);
}
aio::task<void> cancel_before_start_main() {
  log_t log;
  auto t = aio::create_task(record(log, "body"));
  CHECK(t.cancel());
  const bool cancelled = co_await await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(log.empty());  // the body never ran
  CHECK(t.cancelled());
}
aio::task<void> spin(int& steps) {
  for (;;) {
    ++steps;
    co_await aio::yield();
  }
}
aio::task<void> cancel_in_yield_main() {
  int steps = 0;
  auto t = aio::create_task(spin(steps));
  co_await aio::yield();  // t takes its first step in this iteration, before main resumes
  CHECK(steps == 1);
  CHECK(t.cancel());  // t's wake-up is already queued: delivered at that await
  const bool cancelled = co_await await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(steps == 1);
}
aio::task<int> swallows_cancel(log_t& log) {
  try {
    co_await aio::sleep(5s);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("swallowed"));
  }
  co_await aio::sleep(1s);  // no cancel pending any more
  co_return 99;
}
aio::task<void> cancel_swallowed_main() {
  log_t log;
  auto t = aio::create_task(swallows_cancel(log));
  co_await aio::sleep(1s);
  CHECK(t.cancel());
  const int v = co_await t;
  CHECK(v == 99);
  CHECK(now_seconds() == 2.0);
  CHECK(!t.cancelled());
  CHECK(t.cancelling() == 1);  // asyncio: cancelling() counts requests until uncancel()
  CHECK(log == log_t{"swallowed@1000"});
}
}  // namespace

TEST_CASE("cancelling a task suspended in sleep", "[tasks]") { aio::test::run_test(cancel_in_sleep_main()); }
TEST_CASE("cancelling a task suspended on a future cancels that future", "[tasks]") {
  aio::test::run_test(cancel_in_future_main());
}
TEST_CASE("cancelling a task suspended in gather cancels and awaits the children", "[tasks]") {
  aio::test::run_test(cancel_in_gather_main());
}
TEST_CASE("a task cancelled before its first step never runs", "[tasks]") {
  aio::test::run_test(cancel_before_start_main());
}
TEST_CASE("a cancel arriving while the wake-up is queued is delivered at that await", "[tasks]") {
  aio::test::run_test(cancel_in_yield_main());
}
TEST_CASE("a task that swallows cancelled_error completes normally", "[tasks]") {
  aio::test::run_test(cancel_swallowed_main());
}


namespace {
aio::task<void> sleep_an_hour() { co_await aio::sleep(std::chrono::hours(1)); }
aio::task<void> cancelled_many_times_main() {
  auto t = aio::create_task(sleep_an_hour());
  co_await aio::yield();
  for (int i = 0; i < 70'000; ++i) (void)t.cancel();
  // cancelling() counts up to 65,535 and stays there rather than wrapping to
  // a small number, which would tell a timeout or task group that the
  // cancellation was its own.
  CHECK(t.cancelling() == 65'535u);
  CHECK(t.uncancel() == 65'534u);
  const bool cancelled = co_await await_is_cancelled(t);
  CHECK(cancelled);
}
}  // namespace

TEST_CASE("cancelling(): 70,000 requests saturate the counter instead of wrapping", "[tasks]") {
  aio::test::run_test(cancelled_many_times_main());
}
