// Tests for aio/testing.hpp: aio::testing::run (virtual time, pending tasks and
// unretrieved exceptions fail the test, the test's own exceptions pass through),
// and the elapsed-time helpers.
#include <aio/testing.hpp>

#include "support/captured_log.hpp"
#include "support/catch.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- result types ------------------------------------------------------------

namespace {
template <class T> T make();  // for decltype only
}  // namespace

static_assert(std::is_same_v<decltype(aio::testing::run(make<aio::task<int>>())), int>);
static_assert(std::is_same_v<decltype(aio::testing::run(make<aio::task<void>>())), void>);
static_assert(std::is_same_v<decltype(aio::testing::run(make<aio::task<int&>>())), int&>);
static_assert(std::is_same_v<decltype(aio::testing::run(make<aio::task<int>>(), aio::testing::options{})), int>);
static_assert(std::is_same_v<decltype(aio::testing::elapsed()), aio::duration>);
static_assert(std::is_same_v<decltype(aio::testing::elapsed_seconds()), double>);
static_assert(std::is_same_v<decltype(make<const aio::testing::stopwatch&>().elapsed()), aio::duration>);
static_assert(std::is_same_v<decltype(make<const aio::testing::stopwatch&>().seconds()), double>);
static_assert(std::is_base_of_v<std::exception, aio::testing::test_failure>);
static_assert(!std::is_base_of_v<std::runtime_error, aio::testing::test_failure>);
static_assert(!std::is_base_of_v<std::logic_error, aio::testing::test_failure>);
static_assert(std::is_nothrow_copy_constructible_v<aio::testing::test_failure>);

namespace {

/// Collects what aio reports while it lives (outside the test's own capture),
/// then restores the previous handler.
using aio::test::captured_log;

/// The message of the test_failure that running `t` throws, or "" if it passes.
template <class T>
std::string failure_of(aio::task<T> t, aio::testing::options opts = {}) {
  try {
    aio::testing::run(std::move(t), opts);
  } catch (const aio::testing::test_failure& e) {
    return e.what();
  }
  return {};
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

double loop_seconds() {
  return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count();
}

aio::task<int> answer() {
  co_await aio::sleep(1s);
  co_return 42;
}

aio::task<std::unique_ptr<int>> move_only_answer() {
  co_await aio::yield();
  co_return std::make_unique<int>(7);
}

int global_value = 5;
aio::task<int&> global_ref() {
  co_await aio::yield();
  co_return global_value;
}

aio::task<double> sleep_an_hour() {
  co_await aio::sleep(1h);
  co_return loop_seconds();
}

aio::task<double> read_start_time() {
  co_await aio::yield();
  co_return loop_seconds();
}

/// Sleeps for `d`; on cancellation, records it in `log` and rethrows.
aio::task<void> sleeper(std::vector<std::string>& log, std::string name, aio::duration d) {
  try {
    co_await aio::sleep(d);
    log.push_back(name + " woke");
  } catch (const aio::cancelled_error&) {
    log.push_back(name + " cancelled");
    throw;
  }
}

aio::task<void> leaves_named_task(std::vector<std::string>& log) {
  aio::future<void> f = aio::create_task(sleeper(log, "forgotten", 1h), "forgotten");
  co_await aio::sleep(1s);
}

aio::task<int> leaves_task_returns_value(std::vector<std::string>& log) {
  aio::future<void> f = aio::create_task(sleeper(log, "background", 1h));
  co_await aio::yield();
  co_return 1;
}

aio::task<void> leaves_two_tasks(std::vector<std::string>& log) {
  aio::future<void> a = aio::create_task(sleeper(log, "a", 1h), "first");
  aio::future<void> b = aio::create_task(sleeper(log, "b", 2h), "second");
  co_await aio::yield();
}

aio::task<void> cancels_without_awaiting(std::vector<std::string>& log) {
  aio::future<void> f = aio::create_task(sleeper(log, "c", 1h), "cancelled-only");
  co_await aio::yield();
  f.cancel();
}

aio::task<void> cancels_and_awaits(std::vector<std::string>& log) {
  aio::future<void> f = aio::create_task(sleeper(log, "c", 1h), "cancelled-and-awaited");
  co_await aio::yield();
  f.cancel();
  try {
    co_await f;
  } catch (const aio::cancelled_error&) {
    log.push_back("saw the cancel");
  }
}

aio::task<void> awaits_its_tasks(std::vector<std::string>& log) {
  aio::future<void> a = aio::create_task(sleeper(log, "a", 1s), "a");
  aio::future<void> b = aio::create_task(sleeper(log, "b", 2s), "b");
  co_await a;
  co_await b;
}

aio::task<void> fire_and_forget_that_finishes(std::vector<std::string>& log) {
  (void)aio::create_task(sleeper(log, "short", 1s));
  co_await aio::sleep(2s);
}

aio::task<void> fail_after(aio::duration d, std::string what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}

aio::task<void> drops_failed_task() {
  aio::future<void> f = aio::create_task(fail_after(1s, "boom"), "doomed");
  co_await aio::sleep(2s);
}  // f goes with its exception unread

aio::task<void> reads_failed_task() {
  aio::future<void> f = aio::create_task(fail_after(1s, "boom"), "doomed");
  co_await aio::sleep(2s);
  CHECK(f.exception() != nullptr);
}

aio::task<void> awaits_failed_task() {
  aio::future<void> f = aio::create_task(fail_after(1s, "boom"), "doomed");
  try {
    co_await f;
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "boom");
  }
}

aio::task<void> callback_throws() {
  aio::get_running_loop().call_soon([] { throw std::runtime_error("callback boom"); });
  co_await aio::yield();
  co_await aio::yield();
}

aio::task<void> leaves_task_and_drops_failure(std::vector<std::string>& log) {
  aio::future<void> keep = aio::create_task(sleeper(log, "k", 1h), "lingering");
  aio::future<void> f = aio::create_task(fail_after(1s, "lost"), "failing");
  co_await aio::sleep(2s);
}

/// A task that turns its cancellation into another error nobody will read.
aio::task<void> fails_when_cancelled() {
  try {
    co_await aio::sleep(1h);
  } catch (const aio::cancelled_error&) {
    throw std::runtime_error("failed during cleanup");
  }
}
aio::task<void> leaves_task_failing_on_cancel() {
  (void)aio::create_task(fails_when_cancelled(), "bad-cleanup");
  co_await aio::yield();
}

struct not_a_std_exception {
  int code;
};

aio::task<void> throws_runtime_error() {
  co_await aio::sleep(1s);
  throw std::runtime_error("the test's own failure");
}
aio::task<int> throws_non_std() {
  co_await aio::yield();
  throw not_a_std_exception{7};
}
aio::task<void> throws_with_leftovers(std::vector<std::string>& log) {
  aio::future<void> keep = aio::create_task(sleeper(log, "left", 1h), "left");
  aio::future<void> f = aio::create_task(fail_after(1s, "unread"), "unread");
  co_await aio::sleep(2s);
  throw std::runtime_error("the test's own failure");
}

aio::task<void> waits_forever() {
  aio::future<int> never;
  (void)co_await never;
}

aio::task<void> own_handler_inside() {
  std::vector<std::string> seen;
  {
    captured_log mine;  // the test's own capture wins while it lives
    aio::future<void> f = aio::create_task(fail_after(1s, "expected"), "expected-failure");
    co_await aio::sleep(2s);
    f = aio::future<void>{};
    seen = mine.lines;
  }
  REQUIRE(seen.size() == 1);
  CHECK(contains(seen[0], "'expected-failure'"));
}

aio::task<void> nested_run() {
  co_await aio::yield();
  CHECK_THROWS_AS(aio::testing::run(answer()), aio::invalid_state_error);
  // The outer test still measures its own time.
  co_await aio::sleep(1s);
  aio::testing::require_elapsed(1s);
}

}  // namespace

// --- running a test -----------------------------------------------------------

TEST_CASE("run returns the test's value, a move-only value or a reference", "[testing]") {
  CHECK(aio::testing::run(answer()) == 42);
  std::unique_ptr<int> p = aio::testing::run(move_only_answer());
  REQUIRE(p);
  CHECK(*p == 7);
  int& r = aio::testing::run(global_ref());
  CHECK(&r == &global_value);
}

TEST_CASE("virtual time: an hour's sleep takes microseconds and reads 3600 s", "[testing]") {
  const auto real_start = std::chrono::steady_clock::now();
  const double loop_time = aio::testing::run(sleep_an_hour());
  const auto real = std::chrono::steady_clock::now() - real_start;
  CHECK(loop_time == 3600.0);
  CHECK(real < 1s);  // generous: typically a few microseconds, even under sanitizers
}

TEST_CASE("every test gets a fresh loop whose time starts at zero", "[testing]") {
  CHECK(aio::testing::run(sleep_an_hour()) == 3600.0);
  CHECK(aio::testing::run(read_start_time()) == 0.0);
}

// --- tasks left pending -------------------------------------------------------

TEST_CASE("a task left pending fails the test, naming it, after cancelling it", "[testing]") {
  std::vector<std::string> log;
  const std::string msg = failure_of(leaves_named_task(log));
  CHECK(contains(msg, "aio::testing: the test returned with 1 task still pending: 'forgotten'."));
  CHECK(contains(msg, "Await every task"));
  CHECK(log == std::vector<std::string>{"forgotten cancelled"});  // its cleanup ran
}

TEST_CASE("an unnamed pending task is named Task-<n>, and the value is not returned", "[testing]") {
  std::vector<std::string> log;
  const std::string msg = failure_of(leaves_task_returns_value(log));
  CHECK(contains(msg, "1 task still pending: 'Task-2'"));  // the test itself took number 1
  CHECK(log == std::vector<std::string>{"background cancelled"});
}

TEST_CASE("every pending task is named, in creation order", "[testing]") {
  std::vector<std::string> log;
  const std::string msg = failure_of(leaves_two_tasks(log));
  CHECK(contains(msg, "2 tasks still pending: 'first', 'second'."));
  CHECK(log == std::vector<std::string>{"a cancelled", "b cancelled"});
}

TEST_CASE("a task cancelled but never awaited is still pending when the test returns", "[testing]") {
  std::vector<std::string> log;
  CHECK(contains(failure_of(cancels_without_awaiting(log)), "'cancelled-only'"));
  log.clear();
  CHECK(failure_of(cancels_and_awaits(log)).empty());
  CHECK(log == std::vector<std::string>{"c cancelled", "saw the cancel"});
}

TEST_CASE("tasks that were awaited, or that finished by themselves, do not fail the test", "[testing]") {
  std::vector<std::string> log;
  CHECK(failure_of(awaits_its_tasks(log)).empty());
  CHECK(log == std::vector<std::string>{"a woke", "b woke"});
  log.clear();
  CHECK(failure_of(fire_and_forget_that_finishes(log)).empty());
  CHECK(log == std::vector<std::string>{"short woke"});
}

TEST_CASE("options.fail_on_pending_tasks = false: pending tasks are cancelled quietly", "[testing]") {
  std::vector<std::string> log;
  aio::testing::options lenient;
  lenient.fail_on_pending_tasks = false;
  CHECK(failure_of(leaves_named_task(log), lenient).empty());
  CHECK(log == std::vector<std::string>{"forgotten cancelled"});
}

// --- what aio reports ---------------------------------------------------------

TEST_CASE("an exception never retrieved fails the test, quoting aio's report", "[testing]") {
  captured_log outside;
  const std::string msg = failure_of(drops_failed_task());
  CHECK(contains(msg, "aio::testing: aio reported 1 problem during the test:"));
  CHECK(contains(msg, "aio: task 'doomed' exception was never retrieved: boom"));
  CHECK(outside.lines.empty());  // captured by the test, not passed on
}

TEST_CASE("an exception that was read or awaited does not fail the test", "[testing]") {
  CHECK(failure_of(reads_failed_task()).empty());
  CHECK(failure_of(awaits_failed_task()).empty());
}

TEST_CASE("an exception escaping a callback fails the test", "[testing]") {
  CHECK(contains(failure_of(callback_throws()), "aio: exception in callback: callback boom"));
}

TEST_CASE("a task that fails while being cancelled at the end fails the test", "[testing]") {
  const std::string msg = failure_of(leaves_task_failing_on_cancel());
  CHECK(contains(msg, "1 task still pending: 'bad-cleanup'"));
  CHECK(contains(msg, "'bad-cleanup' exception was never retrieved: failed during cleanup"));
}

TEST_CASE("pending tasks and reports come together in one failure", "[testing]") {
  std::vector<std::string> log;
  const std::string msg = failure_of(leaves_task_and_drops_failure(log));
  const auto pending_at = msg.find("1 task still pending: 'lingering'");
  const auto report_at = msg.find("'failing' exception was never retrieved: lost");
  CHECK(pending_at != std::string::npos);
  CHECK(report_at != std::string::npos);
  CHECK(pending_at < report_at);
}

TEST_CASE("options.fail_on_log_reports = false: reports go to the previous handler", "[testing]") {
  captured_log outside;
  aio::testing::options lenient;
  lenient.fail_on_log_reports = false;
  CHECK(failure_of(drops_failed_task(), lenient).empty());
  REQUIRE(outside.lines.size() == 1);
  CHECK(contains(outside.lines[0], "'doomed' exception was never retrieved: boom"));
}

TEST_CASE("a handler the test installs itself takes the reports it sees", "[testing]") {
  CHECK(failure_of(own_handler_inside()).empty());
}

TEST_CASE("the previous log handler is restored, whatever the outcome", "[testing]") {
  captured_log outside;
  std::vector<std::string> log;
  (void)aio::testing::run(answer());
  (void)failure_of(leaves_named_task(log));
  CHECK_THROWS_AS(aio::testing::run(throws_runtime_error()), std::runtime_error);
  aio::log("after the tests");
  CHECK(outside.lines == std::vector<std::string>{"after the tests"});
}

// --- the test's own exceptions ------------------------------------------------

TEST_CASE("an exception from the test body propagates unchanged", "[testing]") {
  CHECK_THROWS_WITH(aio::testing::run(throws_runtime_error()), "the test's own failure");
  try {
    (void)aio::testing::run(throws_non_std());
    FAIL("no exception");
  } catch (const not_a_std_exception& e) {  // e.g. Catch2's own REQUIRE failure
    CHECK(e.code == 7);
  }
}

TEST_CASE("when the test throws, leftovers are cleaned up and reports passed on", "[testing]") {
  captured_log outside;
  std::vector<std::string> log;
  CHECK_THROWS_WITH(aio::testing::run(throws_with_leftovers(log)), "the test's own failure");
  CHECK(log == std::vector<std::string>{"left cancelled"});
  REQUIRE(outside.lines.size() == 1);
  CHECK(contains(outside.lines[0], "'unread' exception was never retrieved: unread"));
}

TEST_CASE("a test that can never finish throws deadlock_error", "[testing]") {
  CHECK_THROWS_AS(aio::testing::run(waits_forever()), aio::deadlock_error);
}

TEST_CASE("aio::testing::run inside a running loop throws invalid_state_error", "[testing]") {
  aio::testing::run(nested_run());
}

// --- elapsed time -------------------------------------------------------------

namespace {

aio::task<void> nap(aio::duration d) { co_await aio::sleep(d); }

aio::task<void> three_parallel_sleeps() {
  co_await aio::gather(nap(1s), nap(1s), nap(1s));
  CHECK(aio::testing::elapsed() == 1s);
  CHECK(aio::testing::elapsed_seconds() == 1.0);
  aio::testing::require_elapsed(1s);
}

aio::task<void> sequential_sleeps() {
  aio::testing::stopwatch total;
  co_await aio::sleep(250ms);
  aio::testing::stopwatch second;
  co_await aio::sleep(500ms);
  CHECK(second.elapsed() == 500ms);
  CHECK(second.seconds() == 0.5);
  total.require_elapsed(750ms);
  second.restart();
  CHECK(second.elapsed() == 0s);
  co_await aio::sleep(1h);
  second.require_elapsed(1h);
  aio::testing::require_elapsed(1h + 750ms);
}

aio::task<std::string> require_elapsed_failure(aio::duration expected, aio::duration tolerance) {
  co_await aio::sleep(2s);
  try {
    aio::testing::require_elapsed(expected, tolerance);
  } catch (const aio::testing::test_failure& e) {
    co_return e.what();
  }
  co_return "";
}

aio::task<std::string> stopwatch_failure() {
  aio::testing::stopwatch watch;
  co_await aio::sleep(1500ms);
  try {
    watch.require_elapsed(1s, 100ms);
  } catch (const aio::testing::test_failure& e) {
    co_return e.what();
  }
  co_return "";
}

aio::task<void> sleeps_then_requires(aio::duration sleep_for, aio::duration expected) {
  co_await aio::sleep(sleep_for);
  aio::testing::require_elapsed(expected);
}

aio::task<void> elapsed_inside_other_loop() {
  co_await aio::yield();
  CHECK_THROWS_AS(aio::testing::elapsed(), aio::invalid_state_error);
}

}  // namespace

TEST_CASE("elapsed() reads loop time since the test started: parallel sleeps take 1 s", "[testing]") {
  aio::testing::run(three_parallel_sleeps());
}

TEST_CASE("a stopwatch measures loop time from its start or restart", "[testing]") {
  aio::testing::run(sequential_sleeps());
}

TEST_CASE("require_elapsed accepts the tolerance and fails with a clear message", "[testing]") {
  CHECK(aio::testing::run(require_elapsed_failure(2s, 0s)).empty());
  CHECK(aio::testing::run(require_elapsed_failure(2100ms, 100ms)).empty());
  CHECK(aio::testing::run(require_elapsed_failure(1900ms, -100ms)).empty());  // a tolerance is a distance

  const std::string exact = aio::testing::run(require_elapsed_failure(1s, 0s));
  CHECK(contains(exact, "aio::testing::require_elapsed: expected 1 s of loop time, but 2 s elapsed ("));
  CHECK(contains(exact, "test_testing.cpp:"));  // where require_elapsed was called

  const std::string within = aio::testing::run(require_elapsed_failure(2500ms, 250ms));
  CHECK(contains(within, "expected 2.5 s of loop time (± 0.25 s), but 2 s elapsed"));

  CHECK(contains(aio::testing::run(stopwatch_failure()),
                 "aio::testing::stopwatch::require_elapsed: expected 1 s of loop time (± 0.1 s), but 1.5 s elapsed"));
}

TEST_CASE("a require_elapsed failure escaping the test fails aio::testing::run", "[testing]") {
  CHECK_THROWS_AS(aio::testing::run(sleeps_then_requires(2s, 1s)), aio::testing::test_failure);
  CHECK_NOTHROW(aio::testing::run(sleeps_then_requires(2s, 2s)));
}

TEST_CASE("elapsed() outside aio::testing::run throws invalid_state_error", "[testing]") {
  CHECK_THROWS_AS(aio::testing::elapsed(), aio::invalid_state_error);
  aio::run(elapsed_inside_other_loop(), aio::virtual_time);
}
