// Tests for aio/tasks.hpp: create_task, gather / when_all, gather_settled,
// when_any, sleep, sleep_until and yield (shield and cancelling a task are in
// test_tasks_cancellation.cpp). Everything runs on virtual time
// (aio::test::run_test), so the loop times asserted below are exact and the
// tests take no real time.
#include <aio/tasks.hpp>

#include "support/captured_log.hpp"
#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/exceptions.hpp>
#include <aio/future.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

using namespace std::chrono_literals;

// --- result types ------------------------------------------------------------

namespace {
template <class T> using tk = aio::task<T>;
template <class T> T make();  // for decltype only
}  // namespace

static_assert(std::is_same_v<decltype(aio::create_task(make<tk<int>>())), aio::future<int>>);
static_assert(std::is_same_v<decltype(aio::gather(make<tk<int>>(), make<tk<void>>(), make<tk<std::string>>())),
                             tk<std::tuple<int, std::monostate, std::string>>>);
static_assert(std::is_same_v<decltype(aio::gather(make<aio::future<int>&>(), make<tk<double>>())),
                             tk<std::tuple<int, double>>>);
static_assert(std::is_same_v<decltype(aio::when_all(make<tk<int>>(), make<tk<void>>())),
                             tk<std::tuple<int, std::monostate>>>);
static_assert(std::is_same_v<decltype(aio::gather(make<std::vector<tk<int>>>())), tk<std::vector<int>>>);
static_assert(std::is_same_v<decltype(aio::gather(make<std::vector<aio::future<int>>>())), tk<std::vector<int>>>);
static_assert(std::is_same_v<decltype(aio::gather(make<std::vector<tk<void>>>())), tk<std::vector<std::monostate>>>);
static_assert(std::is_same_v<decltype(aio::gather_settled(make<tk<int>>(), make<tk<void>>())),
                             tk<std::tuple<aio::outcome<int>, aio::outcome<void>>>>);
static_assert(std::is_same_v<decltype(aio::gather_settled(make<std::vector<tk<int>>>())),
                             tk<std::vector<aio::outcome<int>>>>);
static_assert(std::is_same_v<decltype(aio::when_any(make<tk<int>>(), make<tk<int>>())),
                             tk<aio::when_any_result<int>>>);
static_assert(std::is_same_v<decltype(aio::when_any(make<tk<int>>(), make<tk<std::string>>())),
                             tk<aio::when_any_result<std::variant<int, std::string>>>>);
static_assert(std::is_same_v<decltype(aio::when_any(make<tk<int>>(), make<tk<void>>())),
                             tk<aio::when_any_result<std::variant<int, std::monostate>>>>);
static_assert(std::is_same_v<decltype(aio::when_any(make<std::vector<tk<int>>>())), tk<aio::when_any_result<int>>>);
static_assert(std::is_same_v<decltype(aio::shield(make<aio::future<int>>()).await_resume()), int>);

namespace {

using log_t = std::vector<std::string>;
using aio::test::now_seconds;

using aio::test::now_ms;
using aio::test::stamp;

aio::task<int> value_after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}
aio::task<std::string> string_after(aio::duration d, std::string s) {
  co_await aio::sleep(d);
  co_return s;
}
aio::task<void> void_after(aio::duration d) { co_await aio::sleep(d); }
aio::task<int> fail_after(aio::duration d, std::string what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}
aio::task<void> record(log_t& log, std::string name) {
  log.push_back(std::move(name));
  co_return;
}
aio::task<int> record_then_value(log_t& log, std::string name, aio::duration d, int v) {
  log.push_back(stamp(name));
  co_await aio::sleep(d);
  co_return v;
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
/// Sleeps `d` and returns `v`; if cancelled, cleans up for `cleanup` of loop
/// time (an await after the cancellation) and then reports the cancellation.
aio::task<int> slow_cleanup(log_t& log, std::string name, aio::duration d, int v, aio::duration cleanup) {
  try {
    co_await aio::sleep(d);
    co_return v;
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp(name + " cleanup start"));
  }
  co_await aio::sleep(cleanup);  // no co_await inside a handler: clean up here
  log.push_back(stamp(name + " cleanup done"));
  throw aio::cancelled_error{};
}

}  // namespace

// --- create_task -----------------------------------------------------------

namespace {
aio::task<void> create_task_order_main() {
  log_t log;
  auto a = aio::create_task(record(log, "a"));
  auto b = aio::create_task(record(log, "b"));
  auto c = aio::create_task(record(log, "c"));
  log.push_back("main");
  CHECK(!a.done());
  CHECK(aio::get_running_loop().pending_tasks() == 4);  // main + 3
  co_await aio::yield();  // one iteration: the three start in it, before main resumes
  CHECK(log == log_t{"main", "a", "b", "c"});
  CHECK((a.done() && b.done() && c.done()));
  CHECK(aio::get_running_loop().pending_tasks() == 1);
  CHECK(now_seconds() == 0.0);
}
aio::task<void> create_task_concurrent_main() {
  auto a = aio::create_task(value_after(2s, 1));
  auto b = aio::create_task(value_after(3s, 2));
  co_await aio::sleep(1s);  // the tasks run while main sleeps
  CHECK(now_seconds() == 1.0);
  const int x = co_await a;
  CHECK(x == 1);
  CHECK(now_seconds() == 2.0);
  const int y = co_await b;
  CHECK(y == 2);
  CHECK(now_seconds() == 3.0);  // 3 s in all, not 1 + 2 + 3
}
}  // namespace

TEST_CASE("create_task starts tasks at the next iteration, in creation order", "[tasks]") {
  aio::test::run_test(create_task_order_main());
}

TEST_CASE("create_task runs tasks concurrently with the creator", "[tasks]") {
  aio::test::run_test(create_task_concurrent_main());
}

// Tasks created one after the other share one ready-queue entry (a "run" of
// starts, event_loop::schedule_start); none of that may show.
namespace {
/// Counts loop iterations: a callback that schedules itself again once each.
struct iteration_counter {
  long iterations = 0;
  bool stopped = false;
  void tick() {
    ++iterations;
    if (!stopped) aio::get_running_loop().call_soon([this] { tick(); });
  }
};
aio::task<void> record_iteration(log_t& log, std::string name, const iteration_counter& counter) {
  log.push_back(name + "@" + std::to_string(counter.iterations));
  co_return;
}
aio::task<void> create_then_record(log_t& log, const iteration_counter& counter,
                                   std::vector<aio::future<void>>& created) {
  created.push_back(aio::create_task(record_iteration(log, "d", counter)));
  log.push_back("a@" + std::to_string(counter.iterations));
  co_return;
}
aio::task<void> cancel_then_record(log_t& log, aio::future<void>& victim) {
  CHECK(victim.cancel());
  log.push_back("a");
  co_return;
}
aio::task<void> never_started(aio::test::counted c) {
  (void)c;
  co_return;
}

aio::task<void> starts_interleave_with_callbacks_main() {
  log_t log;
  auto a = aio::create_task(record(log, "a"));
  auto b = aio::create_task(record(log, "b"));
  aio::get_running_loop().call_soon([&log] { log.push_back("x"); });
  auto c = aio::create_task(record(log, "c"));
  auto d = aio::create_task(record(log, "d"));
  co_await aio::yield();
  CHECK(log == log_t{"a", "b", "x", "c", "d"});
}
aio::task<void> task_made_in_a_first_step_waits_main() {
  iteration_counter counter;
  counter.tick();  // iteration 1 is the one running now
  log_t log;
  std::vector<aio::future<void>> created;
  auto a = aio::create_task(create_then_record(log, counter, created));
  auto b = aio::create_task(record_iteration(log, "b", counter));
  auto c = aio::create_task(record_iteration(log, "c", counter));
  co_await aio::yield();
  co_await aio::yield();
  counter.stopped = true;
  // a, b and c start in the same iteration; d, made during a's first step,
  // in the next one, after them.
  CHECK(log == log_t{"a@2", "b@2", "c@2", "d@3"});
}
aio::task<void> cancelled_before_start_in_a_run_main() {
  log_t log;
  auto a = aio::create_task(record(log, "a"));
  auto b = aio::create_task(record(log, "b"));
  auto c = aio::create_task(record(log, "c"));
  CHECK(b.cancel());
  co_await aio::yield();
  CHECK(log == log_t{"a", "c"});  // b never ran its body
  CHECK(b.cancelled());
  CHECK((a.done() && !a.cancelled() && c.done() && !c.cancelled()));
}
aio::task<void> first_step_cancels_a_later_start_main() {
  log_t log;
  aio::future<void> c;
  auto a = aio::create_task(cancel_then_record(log, c));
  auto b = aio::create_task(record(log, "b"));
  c = aio::create_task(record(log, "c"));
  auto d = aio::create_task(record(log, "d"));
  co_await aio::yield();
  CHECK(log == log_t{"a", "b", "d"});
  CHECK(c.cancelled());
}
}  // namespace

TEST_CASE("create_task: tasks made back to back start in order around call_soon callbacks", "[tasks]") {
  aio::test::run_test(starts_interleave_with_callbacks_main());
}

TEST_CASE("create_task: a task made during a first step starts at the next iteration", "[tasks]") {
  aio::test::run_test(task_made_in_a_first_step_waits_main());
}

TEST_CASE("create_task: one of several tasks made back to back cancelled before it starts", "[tasks]") {
  aio::test::run_test(cancelled_before_start_in_a_run_main());
  aio::test::run_test(first_step_cancels_a_later_start_main());
}

TEST_CASE("create_task: tasks that never started are destroyed by close(), their futures cancelled", "[tasks]") {
  aio::test::captured_log logged;
  aio::test::counted::reset();
  std::vector<aio::future<void>> futures;
  {
    aio::event_loop loop{aio::virtual_time};
    for (int i = 0; i < 5; ++i) futures.push_back(loop.create_task(never_started(aio::test::counted{i})));
    CHECK(aio::test::counted::alive == 5);
    loop.close();
  }
  CHECK(aio::test::counted::alive == 0);
  for (auto& f : futures) CHECK(f.cancelled());
  CHECK(logged.lines.size() == 5);  // "closed while task ... was still pending", once each
}

// --- gather ------------------------------------------------------------------

namespace {
aio::task<void> gather_variadic_main() {
  auto [i, v, s] = co_await aio::gather(value_after(2s, 7), void_after(3s), string_after(1s, "x"));
  CHECK(i == 7);
  CHECK(v == std::monostate{});
  CHECK(s == "x");
  CHECK(now_seconds() == 3.0);  // the slowest child

  auto [j, t] = co_await aio::when_all(value_after(1s, 8), string_after(1s, "y"));
  CHECK(j == 8);
  CHECK(t == "y");
  CHECK(now_seconds() == 4.0);
}
aio::task<void> gather_vector_main() {
  std::vector<aio::task<int>> children;
  children.push_back(value_after(3s, 1));
  children.push_back(value_after(1s, 2));
  children.push_back(value_after(2s, 3));
  const std::vector<int> r = co_await aio::gather(std::move(children));
  CHECK(r == std::vector<int>{1, 2, 3});  // argument order, not finishing order
  CHECK(now_seconds() == 3.0);

  std::vector<aio::future<int>> futures;
  futures.push_back(aio::create_task(value_after(2s, 4)));
  futures.push_back(aio::create_task(value_after(1s, 5)));
  const std::vector<int> r2 = co_await aio::when_all(std::move(futures));
  CHECK(r2 == std::vector<int>{4, 5});
  CHECK(now_seconds() == 5.0);
}
aio::task<void> gather_futures_main() {
  auto a = aio::create_task(value_after(2s, 10));
  auto b = aio::create_task(string_after(1s, "b"));
  auto [x, y] = co_await aio::gather(a, b);
  CHECK(x == 10);
  CHECK(y == "b");
  CHECK(now_seconds() == 2.0);

  // Mixed: a task future, a task, and a plain future completed by a callback.
  auto f = aio::create_task(value_after(1s, 1));
  aio::future<std::string> plain;
  auto h = aio::get_running_loop().call_later(3s, [plain]() mutable { plain.set_result("plain"); });
  auto [p, q, r] = co_await aio::gather(f, value_after(2s, 2), plain);
  CHECK(p == 1);
  CHECK(q == 2);
  CHECK(r == "plain");
  CHECK(now_seconds() == 5.0);
}
aio::task<void> gather_start_order_main() {
  log_t log;
  auto [a, b, c] = co_await aio::gather(record_then_value(log, "a", 3s, 1), record_then_value(log, "b", 1s, 2),
                                        record_then_value(log, "c", 2s, 3));
  CHECK(log == log_t{"a@0", "b@0", "c@0"});  // argument order (g++ evaluates argument lists right to left)
  CHECK(a + b + c == 6);

  log.clear();
  std::vector<aio::task<int>> children;
  for (int i = 0; i < 4; ++i) children.push_back(record_then_value(log, std::to_string(i), 1s, i));
  (void)co_await aio::gather(std::move(children));
  CHECK(log == log_t{"0@3000", "1@3000", "2@3000", "3@3000"});
}
aio::task<void> gather_empty_main() {
  log_t log;
  auto other = aio::create_task(record(log, "other"));
  std::vector<aio::task<int>> none;
  const std::vector<int> r = co_await aio::gather(std::move(none));
  CHECK(r.empty());
  CHECK(log.empty());  // nothing to wait for: no suspension, the other task has not run yet
  std::vector<aio::future<int>> no_futures;
  const auto settled = co_await aio::gather_settled(std::move(no_futures));
  CHECK(settled.empty());
  std::vector<aio::task<int>> none_either;
  bool threw = false;
  try {
    (void)co_await aio::when_any(std::move(none_either));
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);  // when_any has no first finisher to return
  CHECK(now_seconds() == 0.0);
  co_await other;
}
aio::task<void> gather_done_futures_main() {
  log_t log;
  auto other = aio::create_task(record(log, "other"));
  aio::future<int> a;
  a.set_result(1);
  aio::future<int> b;
  b.set_result(2);
  auto [x, y] = co_await aio::gather(a, b);
  CHECK(x + y == 3);
  CHECK(log.empty());  // all done already: gather did not suspend (a done future is no suspension point)
  co_await other;
}
}  // namespace

TEST_CASE("gather of tasks returns a tuple in argument order", "[tasks]") {
  aio::test::run_test(gather_variadic_main());
}
TEST_CASE("gather of a vector returns a vector in argument order", "[tasks]") {
  aio::test::run_test(gather_vector_main());
}
TEST_CASE("gather accepts futures from create_task, plain futures, and a mix with tasks", "[tasks]") {
  aio::test::run_test(gather_futures_main());
}
TEST_CASE("gather starts its children in argument order", "[tasks]") {
  aio::test::run_test(gather_start_order_main());
}
TEST_CASE("gather, gather_settled and when_any of an empty vector", "[tasks]") {
  aio::test::run_test(gather_empty_main());
}
TEST_CASE("gather of futures that are already done does not suspend", "[tasks]") {
  aio::test::run_test(gather_done_futures_main());
}

// --- gather failures -----------------------------------------------------------

namespace {
aio::task<void> gather_failure_waits_for_siblings_main() {
  log_t log;
  bool threw = false;
  try {
    (void)co_await aio::gather(slow_cleanup(log, "a", 10s, 1, 500ms), fail_after(1s, "boom"),
                               slow_cleanup(log, "c", 10s, 3, 250ms));
  } catch (const std::runtime_error& e) {
    threw = true;
    CHECK(std::string(e.what()) == "boom");
    log.push_back(stamp("gather threw"));
  }
  CHECK(threw);
  // The siblings were cancelled at the failure (1 s) and the error came out only
  // when the slower cleanup had finished (1.5 s).
  CHECK(log == log_t{"a cleanup start@1000", "c cleanup start@1000", "c cleanup done@1250", "a cleanup done@1500",
                     "gather threw@1500"});
  CHECK(aio::get_running_loop().pending_tasks() == 1);

  // The same over a vector; the first failure wins over a later one.
  log.clear();
  std::vector<aio::task<int>> children;
  children.push_back(slow_cleanup(log, "x", 10s, 1, 1s));
  children.push_back(fail_after(1s, "first"));
  children.push_back(fail_after(2s, "second"));
  threw = false;
  try {
    (void)co_await aio::gather(std::move(children));
  } catch (const std::runtime_error& e) {
    threw = true;
    CHECK(std::string(e.what()) == "first");
    log.push_back(stamp("gather threw"));
  }
  CHECK(threw);
  CHECK(log == log_t{"x cleanup start@2500", "x cleanup done@3500", "gather threw@3500"});
}
aio::task<void> gather_failure_keeps_futures_main() {
  auto f = aio::create_task(value_after(3s, 7));
  bool threw = false;
  try {
    (void)co_await aio::gather(f, fail_after(1s, "boom"));
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(now_seconds() == 1.0);  // not waiting for the future
  CHECK(!f.done());             // nor cancelling it: it belongs to the caller
  CHECK(!f.cancelled());
  CHECK(f.cancelling() == 0);
  const int v = co_await f;
  CHECK(v == 7);
  CHECK(now_seconds() == 3.0);
}
aio::task<void> gather_settled_main() {
  log_t log;
  aio::future<int> plain;
  auto h = aio::get_running_loop().call_later(500ms, [plain]() mutable { plain.cancel(); });
  auto r = co_await aio::gather_settled(logs_cancel(log, "ok", 2s, 1), fail_after(1s, "boom"), plain, void_after(1s));
  CHECK(now_seconds() == 2.0);  // the failure at 1 s stopped nothing
  CHECK(log.empty());           // no sibling was cancelled

  const auto& ok = std::get<0>(r);
  CHECK(ok.has_value());
  CHECK(!ok.has_exception());
  CHECK(!ok.cancelled());
  CHECK(static_cast<bool>(ok));
  CHECK(!ok.exception());

  auto& failed = std::get<1>(r);
  CHECK(failed.has_exception());
  CHECK(!failed.has_value());
  CHECK(!failed.cancelled());
  std::string message;
  try {
    std::rethrow_exception(failed.exception());
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message == "boom");
  CHECK_THROWS_AS(failed.value(), std::runtime_error);

  auto& cancelled = std::get<2>(r);
  CHECK(cancelled.cancelled());
  CHECK(!cancelled.has_value());
  CHECK(!cancelled.has_exception());
  bool is_cancel = false;
  try {
    std::rethrow_exception(cancelled.exception());
  } catch (const aio::cancelled_error&) {
    is_cancel = true;
  }
  CHECK(is_cancel);
  CHECK_THROWS_AS(cancelled.value(), aio::cancelled_error);

  CHECK(std::get<3>(r).has_value());
  CHECK(std::move(std::get<0>(r)).value() == 1);

  // The vector form.
  std::vector<aio::task<int>> children;
  children.push_back(value_after(1s, 1));
  children.push_back(fail_after(2s, "two"));
  children.push_back(value_after(3s, 3));
  auto rv = co_await aio::gather_settled(std::move(children));
  CHECK(now_seconds() == 5.0);
  REQUIRE(rv.size() == 3);
  CHECK(rv[0].value() == 1);
  CHECK(rv[1].has_exception());
  CHECK(rv[2].value() == 3);
}
aio::task<void> gather_moved_from_main() {
  aio::task<int> fresh = value_after(1s, 1);
  aio::task<int> spent = value_after(1s, 2);
  aio::task<int> thief = std::move(spent);
  bool threw = false;
  try {
    (void)co_await aio::gather(std::move(fresh), std::move(spent));
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);
  // Whatever gather started before it met the bad argument must not outlive it.
  co_await aio::sleep(2s);
  CHECK(now_seconds() == 2.0);
  CHECK(aio::get_running_loop().pending_tasks() == 1);
}
aio::task<void> gather_vector_moved_from_main() {
  std::vector<aio::task<int>> children;
  children.push_back(value_after(1s, 1));
  children.push_back(value_after(1s, 2));
  aio::task<int> thief = std::move(children[1]);
  bool threw = false;
  try {
    (void)co_await aio::gather(std::move(children));
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);
  co_await aio::sleep(2s);
  CHECK(now_seconds() == 2.0);
  CHECK(aio::get_running_loop().pending_tasks() == 1);
}
}  // namespace

TEST_CASE("gather rethrows the first error only after the other children were cancelled and finished",
          "[tasks]") {
  aio::test::run_test(gather_failure_waits_for_siblings_main());
}
TEST_CASE("a failing gather neither cancels nor waits for the futures it was given", "[tasks]") {
  aio::test::run_test(gather_failure_keeps_futures_main());
}
TEST_CASE("gather_settled returns every outcome and cancels nothing on failure", "[tasks]") {
  aio::test::run_test(gather_settled_main());
}
TEST_CASE("gather given a moved-from task throws invalid_state_error and leaves nothing running", "[tasks]") {
  aio::test::run_test(gather_moved_from_main());
}
TEST_CASE("gather given a vector with a moved-from task throws invalid_state_error and leaves nothing running",
          "[tasks]") {
  aio::test::run_test(gather_vector_moved_from_main());
}

// --- when_any ------------------------------------------------------------------

namespace {
aio::task<void> when_any_first_main() {
  log_t log;
  auto r = co_await aio::when_any(slow_cleanup(log, "a", 3s, 1, 250ms), slow_cleanup(log, "b", 1s, 2, 0s),
                                  slow_cleanup(log, "c", 2s, 3, 500ms));
  log.push_back(stamp("when_any returned"));
  CHECK(r.index == 1);
  CHECK(r.value == 2);
  // The losers were cancelled when b finished (1 s) and had finished their
  // cleanup before when_any returned (1.5 s).
  CHECK(log == log_t{"a cleanup start@1000", "c cleanup start@1000", "a cleanup done@1250", "c cleanup done@1500",
                     "when_any returned@1500"});

  std::vector<aio::task<int>> children;
  children.push_back(value_after(2s, 20));
  children.push_back(value_after(3s, 30));
  children.push_back(value_after(1s, 10));
  auto rv = co_await aio::when_any(std::move(children));
  CHECK(rv.index == 2);
  CHECK(rv.value == 10);
  CHECK(now_seconds() == 2.5);
}
aio::task<void> when_any_first_throws_main() {
  log_t log;
  bool threw = false;
  try {
    (void)co_await aio::when_any(logs_cancel(log, "slow", 2s, 1), fail_after(1s, "first"));
  } catch (const std::runtime_error& e) {
    threw = true;
    CHECK(std::string(e.what()) == "first");
    log.push_back(stamp("when_any threw"));
  }
  CHECK(threw);
  CHECK(log == log_t{"slow cancelled@1000", "when_any threw@1000"});
}
aio::task<void> when_any_mixed_main() {
  auto r = co_await aio::when_any(value_after(3s, 1), string_after(1s, "text"), value_after(2s, 2));
  static_assert(std::is_same_v<decltype(r.value), std::variant<int, std::string, int>>);
  CHECK(r.index == 1);
  REQUIRE(r.value.index() == 1);
  CHECK(std::get<1>(r.value) == "text");
  CHECK(now_seconds() == 1.0);

  // The variant is indexed like the arguments, even when a type repeats.
  auto r2 = co_await aio::when_any(value_after(3s, 1), string_after(2s, "text"), value_after(1s, 2));
  CHECK(r2.index == 2);
  REQUIRE(r2.value.index() == 2);
  CHECK(std::get<2>(r2.value) == 2);

  auto r3 = co_await aio::when_any(void_after(1s), value_after(2s, 5));
  CHECK(r3.index == 0);
  CHECK(std::holds_alternative<std::monostate>(r3.value));
  CHECK(now_seconds() == 3.0);
}
aio::task<void> when_any_futures_main() {
  log_t log;
  auto slow = aio::create_task(logs_cancel(log, "slow future", 3s, 3));
  auto r = co_await aio::when_any(slow, value_after(1s, 1));
  CHECK(r.index == 1);
  CHECK(r.value == 1);
  CHECK(now_seconds() == 1.0);
  CHECK(!slow.done());  // a future passed in is not cancelled
  CHECK(log.empty());

  auto fast = aio::create_task(value_after(1s, 9));
  auto r2 = co_await aio::when_any(fast, logs_cancel(log, "task", 5s, 5));
  CHECK(r2.index == 0);
  CHECK(r2.value == 9);
  CHECK(now_seconds() == 2.0);
  CHECK(log == log_t{"task cancelled@2000"});
  const int v = co_await slow;
  CHECK(v == 3);
  CHECK(now_seconds() == 3.0);
}
}  // namespace

TEST_CASE("when_any returns the first finisher after cancelling and awaiting the others", "[tasks]") {
  aio::test::run_test(when_any_first_main());
}
TEST_CASE("when_any rethrows the error of the first child to finish", "[tasks]") {
  aio::test::run_test(when_any_first_throws_main());
}
TEST_CASE("when_any of different types gives a variant indexed like the arguments", "[tasks]") {
  aio::test::run_test(when_any_mixed_main());
}
TEST_CASE("when_any with futures: they can win, and losing ones are not cancelled", "[tasks]") {
  aio::test::run_test(when_any_futures_main());
}

// --- sleep, sleep_until, yield -------------------------------------------------

namespace {
aio::task<void> stepper(log_t& log, std::string name, int steps, bool use_sleep0) {
  for (int i = 1; i <= steps; ++i) {
    log.push_back(name + std::to_string(i));
    if (use_sleep0) co_await aio::sleep(0s);
    else co_await aio::yield();
  }
}
aio::task<void> interleave_main() {
  log_t log;
  co_await aio::gather(stepper(log, "A", 3, false), stepper(log, "B", 3, false));
  CHECK(log == log_t{"A1", "B1", "A2", "B2", "A3", "B3"});
  log.clear();
  auto a = aio::create_task(stepper(log, "A", 3, true));
  auto b = aio::create_task(stepper(log, "B", 3, true));
  co_await aio::gather(a, b);
  CHECK(log == log_t{"A1", "B1", "A2", "B2", "A3", "B3"});
  CHECK(now_seconds() == 0.0);  // sleep(0) and yield cost no time
}
aio::task<void> sleep_then_record(log_t& log, aio::duration d, std::string name) {
  co_await aio::sleep(d);
  log.push_back(stamp(name));
}
aio::task<void> sleep_order_main() {
  log_t log;
  co_await aio::gather(sleep_then_record(log, 3s, "three"), sleep_then_record(log, 1s, "one"),
                       sleep_then_record(log, 2s, "two"), sleep_then_record(log, 1s, "one again"),
                       sleep_then_record(log, 1500ms, "one and a half"));
  // Shorter first; equal deadlines in the order the sleeps began.
  CHECK(log == log_t{"one@1000", "one again@1000", "one and a half@1500", "two@2000", "three@3000"});
}
aio::task<void> sleep_until_main() {
  co_await aio::sleep_until(aio::time_point{2500ms});
  CHECK(now_seconds() == 2.5);
  CHECK(aio::get_running_loop().time() == aio::time_point{2500ms});
  co_await aio::sleep_until(aio::time_point{1s});  // in the past: yields once
  CHECK(now_seconds() == 2.5);
  co_await aio::sleep(-1s);  // negative: yields once
  CHECK(now_seconds() == 2.5);
  co_await aio::sleep(250ms);
  CHECK(now_seconds() == 2.75);
}
}  // namespace

TEST_CASE("sleep(0) and yield interleave two tasks step by step", "[tasks]") {
  aio::test::run_test(interleave_main());
}
TEST_CASE("sleeps end in deadline order, ties in FIFO order", "[tasks]") {
  aio::test::run_test(sleep_order_main());
}
TEST_CASE("sleep_until wakes at an absolute loop time", "[tasks]") {
  aio::test::run_test(sleep_until_main());
}

// --- many tasks ------------------------------------------------------------------

namespace {
aio::task<int> staggered(int i) {
  co_await aio::sleep(std::chrono::milliseconds(i % 10));
  co_return i;
}
aio::task<void> many_tasks_main() {
  constexpr int n = 10'000;
  std::vector<aio::task<int>> children;
  children.reserve(n);
  for (int i = 0; i < n; ++i) children.push_back(staggered(i));
  const std::vector<int> r = co_await aio::gather(std::move(children));
  REQUIRE(r.size() == static_cast<std::size_t>(n));
  long long sum = 0;
  bool in_order = true;
  for (int i = 0; i < n; ++i) {
    sum += r[static_cast<std::size_t>(i)];
    in_order = in_order && r[static_cast<std::size_t>(i)] == i;
  }
  CHECK(sum == 49'995'000LL);
  CHECK(in_order);
  CHECK(now_ms() == 9);

  std::vector<aio::future<int>> futures;
  futures.reserve(n);
  for (int i = 0; i < n; ++i) futures.push_back(aio::create_task(staggered(i)));
  const std::vector<int> r2 = co_await aio::gather(std::move(futures));
  long long sum2 = 0;
  for (int v : r2) sum2 += v;
  CHECK(sum2 == 49'995'000LL);
  CHECK(aio::get_running_loop().pending_tasks() == 1);
}
}  // namespace

TEST_CASE("gathering 10,000 tasks gives the right sum", "[tasks]") { aio::test::run_test(many_tasks_main()); }
