// Tests for aio/event_loop.hpp: aio::run, run_until_complete, run_forever,
// stop, close, call_soon / call_later / call_at and their handles, the loop's
// clock (virtual and steady), deadlock detection, the end-of-run cleanup, and
// the timer queue under them.
#include <aio/event_loop.hpp>

#include "support/captured_log.hpp"
#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>

#include <aio/detail/ready_queue.hpp>
#include <aio/detail/timer_queue.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using aio::test::counted;
using aio::test::now_seconds;

// --- static checks -----------------------------------------------------------

static_assert(!std::is_copy_constructible_v<aio::event_loop>);
static_assert(!std::is_move_constructible_v<aio::event_loop>);
static_assert(std::is_copy_constructible_v<aio::callback_handle>);
static_assert(std::is_same_v<aio::duration, std::chrono::nanoseconds>);
static_assert(std::is_same_v<aio::time_point::clock, aio::clock>);
static_assert(aio::clock::is_steady);
static_assert(std::is_same_v<decltype(aio::run(std::declval<aio::task<int>>())), int>);
static_assert(std::is_same_v<decltype(aio::run(std::declval<aio::task<void>>(), aio::virtual_time)), void>);
static_assert(std::is_same_v<decltype(std::declval<aio::event_loop&>().time()), aio::time_point>);
static_assert(std::is_same_v<decltype(std::declval<aio::event_loop&>().call_soon([] {})), aio::callback_handle>);
static_assert(std::is_same_v<decltype(aio::get_running_loop()), aio::event_loop&>);
static_assert(std::is_base_of_v<std::runtime_error, aio::deadlock_error>);

namespace {

double seconds(aio::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

aio::task<int> answer_after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::task<void> throw_after_sleep() {
  co_await aio::sleep(1s);
  throw std::out_of_range("out of range after 1s");
}

// --- misuse: nested loops -------------------------------------------------------

aio::task<std::string> nested_run() {
  try {
    aio::run(answer_after(1s, 1));
  } catch (const aio::invalid_state_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

aio::task<std::string> nested_run_until_complete(int which) {
  aio::event_loop other{aio::virtual_time};
  aio::event_loop& self = aio::get_running_loop();
  try {
    if (which == 0) other.run_until_complete(answer_after(1s, 1));
    if (which == 1) self.run_until_complete(answer_after(1s, 1));
    if (which == 2) other.run_forever();
    if (which == 3) {
      aio::future<int> f = other.create_future<int>();
      f.set_result(1);
      other.run_until_complete(f);
    }
  } catch (const aio::invalid_state_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

// --- callbacks and tasks interleaving ------------------------------------------

aio::task<void> interleave(std::vector<std::string>* log) {
  aio::event_loop& loop = aio::get_running_loop();
  log->push_back("m0");
  loop.call_soon([log, &loop] {
    log->push_back("cb1");
    loop.call_soon([log] { log->push_back("cb2"); });  // next iteration, not this one
  });
  for (int i = 1; i <= 3; ++i) {
    co_await aio::yield();
    log->push_back("m" + std::to_string(i));
  }
}

aio::task<void> timed_callbacks(std::vector<std::pair<int, double>>* log, std::vector<double>* whens) {
  aio::event_loop& loop = aio::get_running_loop();
  auto record = [log](int id) { log->push_back({id, now_seconds()}); };
  aio::callback_handle h3 = loop.call_later(3s, [record] { record(3); });
  aio::callback_handle h1 = loop.call_at(aio::time_point{1s}, [record] { record(1); });
  aio::callback_handle h2 = loop.call_later(2500ms, [record] { record(2); });
  aio::callback_handle h0 = loop.call_later(0s, [record] { record(0); });
  aio::callback_handle past = loop.call_at(aio::time_point{-5s}, [record] { record(-5); });
  *whens = {seconds(h3.when()), seconds(h1.when()), seconds(h2.when()), seconds(h0.when()), seconds(past.when())};
  co_await aio::sleep(500ms);
  // call_later is relative to the time of the call.
  aio::callback_handle h4 = loop.call_later(1s, [record] { record(4); });
  whens->push_back(seconds(h4.when()));
  co_await aio::sleep(10s);
}

aio::task<void> equal_deadlines(std::vector<int>* order) {
  aio::event_loop& loop = aio::get_running_loop();
  for (int i = 0; i < 8; ++i) {
    // Alternate call_later / call_at with the same deadline: FIFO all the same.
    if (i % 2 == 0) loop.call_later(1s, [order, i] { order->push_back(i); });
    else loop.call_at(aio::time_point{1s}, [order, i] { order->push_back(i); });
  }
  co_await aio::sleep(2s);
}

aio::task<void> sleeper_logs(std::vector<int>* order, int id) {
  co_await aio::sleep(1s);
  order->push_back(id);
}

aio::task<void> equal_deadline_sleeps(std::vector<int>* order) {
  std::vector<aio::future<void>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(aio::create_task(sleeper_logs(order, i)));
  co_await aio::gather(std::move(fs));
}

aio::task<void> cancel_handles(std::vector<std::string>* log) {
  aio::event_loop& loop = aio::get_running_loop();
  aio::callback_handle soon = loop.call_soon([log] { log->push_back("soon"); });
  aio::callback_handle kept = loop.call_soon([log] { log->push_back("kept"); });
  aio::callback_handle later = loop.call_later(2s, [log] { log->push_back("later"); });
  aio::callback_handle at = loop.call_at(aio::time_point{3s}, [log] { log->push_back("at"); });
  CHECK_FALSE(soon.cancelled());
  CHECK(later.when() == aio::time_point{2s});
  soon.cancel();
  later.cancel();
  CHECK(soon.cancelled());
  CHECK(later.cancelled());
  CHECK(later.when() == aio::time_point{2s});  // when() survives cancel
  co_await aio::sleep(1s);
  at.cancel();
  at.cancel();  // twice: harmless
  co_await aio::sleep(5s);
  kept.cancel();  // after it ran: harmless
  log->push_back("end@" + std::to_string(now_seconds()));
}

// --- virtual time: the guide's examples ------------------------------------------

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);
  co_return "Data from " + url;
}

aio::task<std::string> fetch_sequential() {
  std::string a = co_await fetch_data("url1");
  std::string b = co_await fetch_data("url2");
  std::string c = co_await fetch_data("url3");
  co_return a + "|" + b + "|" + c + "@" + std::to_string(now_seconds());
}

aio::task<std::string> fetch_gathered() {
  auto [a, b, c] = co_await aio::gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"));
  co_return a + "|" + b + "|" + c + "@" + std::to_string(now_seconds());
}

aio::task<std::string> guide_task(std::string name, int delay, std::vector<std::string>* log) {
  log->push_back("start " + name + "@" + std::to_string(now_seconds()));
  co_await aio::sleep(std::chrono::seconds(delay));
  log->push_back("done " + name + "@" + std::to_string(now_seconds()));
  co_return "Result from " + name;
}

aio::task<std::string> guide_event_loop(std::vector<std::string>* log) {
  aio::future<std::string> t1 = aio::create_task(guide_task("A", 2, log));
  aio::future<std::string> t2 = aio::create_task(guide_task("B", 1, log));
  aio::future<std::string> t3 = aio::create_task(guide_task("C", 3, log));
  auto [a, b, c] = co_await aio::gather(t1, t2, t3);
  co_return a + "," + b + "," + c + "@" + std::to_string(now_seconds());
}

// --- deadlock and cleanup ----------------------------------------------------------

aio::task<int> wait_forever() {
  aio::future<int> nobody_sets_this;
  co_return co_await nobody_sets_this;
}

aio::task<int> wait_forever_with_child() {
  aio::future<int> nobody_sets_this;
  aio::future<int> child = aio::create_task(wait_forever(), "waiter");
  co_await aio::sleep(1s);
  co_return co_await nobody_sets_this;
}

aio::task<void> background(int* state, counted c) {
  *state = 1;  // started
  try {
    co_await aio::sleep(1h);
    *state = 2;  // never
  } catch (const aio::cancelled_error&) {
    *state = 3 + c.value;  // cleanup saw the cancellation
    throw;
  }
}

aio::task<int> leaves_tasks_behind(int* started, int* never_started, int* started_state) {
  aio::create_task(background(started, counted{10}));
  co_await aio::yield();  // `started` runs up to its sleep
  aio::create_task(background(never_started, counted{20}));  // cancelled before its first step
  *started_state = *started;
  co_return 5;
}

aio::task<int> main_throws_with_tasks_pending(int* started) {
  aio::create_task(background(started, counted{30}));
  co_await aio::yield();
  throw std::domain_error("main failed");
}

aio::task<void> awaits_gate(aio::future<int> gate, int* reached) {
  counted local{4};
  *reached = co_await gate;
}

aio::task<void> stuck_parent(int* reached) {
  counted local{1};
  int v = co_await answer_after(1h, 2);
  *reached = v;
}

aio::task<void> child_with_counted() {
  counted local{2};
  co_await aio::sleep(1h);
}

aio::task<void> stuck_nested(int* reached) {
  counted local{3};
  co_await child_with_counted();
  *reached = 1;
}

aio::task<int> short_main() {
  co_await aio::sleep(1s);
  co_return 1;
}

aio::task<std::vector<std::string>> callbacks_that_throw() {
  std::vector<std::string> log;
  aio::event_loop& loop = aio::get_running_loop();
  std::vector<std::string>* out = &log;
  loop.call_soon([out] { out->push_back("a"); });
  loop.call_soon([] { throw std::runtime_error("callback failure (expected by the test)"); });
  loop.call_soon([] { throw aio::cancelled_error{}; });
  loop.call_soon([] { throw 42; });
  loop.call_soon([out] { out->push_back("b"); });
  loop.call_later(1s, [] { throw std::runtime_error("timer failure (expected by the test)"); });
  loop.call_later(2s, [out] { out->push_back("c"); });
  co_await aio::sleep(3s);
  co_return log;
}

}  // namespace

// --- aio::run ----------------------------------------------------------------------

TEST_CASE("aio::run returns the value or rethrows the exception", "[event_loop]") {
  CHECK(aio::run(answer_after(0s, 7)) == 7);
  CHECK(aio::run(answer_after(2s, 8), aio::virtual_time) == 8);
  CHECK_THROWS_MATCHES(aio::run(throw_after_sleep(), aio::virtual_time), std::out_of_range,
                       Catch::Matchers::Message("out of range after 1s"));
  CHECK(aio::running_loop() == nullptr);  // left cleanly after the throw
  CHECK(aio::run(answer_after(1s, 9), aio::virtual_time) == 9);
}

TEST_CASE("aio::run inside a running loop throws invalid_state_error", "[event_loop]") {
  const std::string message = aio::test::run_test(nested_run());
  CHECK_THAT(message, Catch::Matchers::Contains("aio::run()"));
  CHECK_THAT(message, Catch::Matchers::Contains("co_await"));
}

TEST_CASE("run_until_complete / run_forever inside a running loop throw", "[event_loop]") {
  for (int which = 0; which < 4; ++which) {
    CAPTURE(which);
    const std::string message = aio::test::run_test(nested_run_until_complete(which));
    CHECK_THAT(message, Catch::Matchers::Contains("running"));
    CHECK_THAT(message, Catch::Matchers::Contains("co_await"));
  }
}

TEST_CASE("get_running_loop outside a loop throws; inside it is the loop", "[event_loop]") {
  CHECK(aio::running_loop() == nullptr);
  CHECK_THROWS_MATCHES(aio::get_running_loop(), aio::invalid_state_error,
                       Catch::Matchers::Predicate<aio::invalid_state_error>([](const auto& e) {
                         return std::string(e.what()).find("no event loop is running") != std::string::npos;
                       }));
  aio::event_loop loop{aio::virtual_time};
  aio::event_loop* seen = nullptr;
  loop.call_soon([&] {
    seen = &aio::get_running_loop();
    aio::get_running_loop().stop();
  });
  CHECK_FALSE(loop.is_running());
  loop.run_forever();
  CHECK(seen == &loop);
  CHECK_FALSE(loop.is_running());
  CHECK(aio::running_loop() == nullptr);
}

// --- callbacks ------------------------------------------------------------------------

TEST_CASE("call_soon callbacks run FIFO", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(loop.time() == aio::time_point{});
}

TEST_CASE("a callback scheduled during an iteration runs in the next one", "[event_loop]") {
  std::vector<std::string> log;
  aio::test::run_test(interleave(&log));
  CHECK(log == std::vector<std::string>{"m0", "cb1", "m1", "cb2", "m2", "m3"});
}

TEST_CASE("call_later / call_at run in deadline order at their loop time", "[event_loop]") {
  std::vector<std::pair<int, double>> log;
  std::vector<double> whens;
  aio::test::run_test(timed_callbacks(&log, &whens));
  CHECK(whens == std::vector<double>{3.0, 1.0, 2.5, 0.0, -5.0, 1.5});
  // A deadline in the past runs at once, before one due now (deadline order).
  CHECK(log == std::vector<std::pair<int, double>>{{-5, 0.0}, {0, 0.0}, {1, 1.0}, {4, 1.5}, {2, 2.5}, {3, 3.0}});
}

TEST_CASE("equal deadlines fire in scheduling order", "[event_loop]") {
  std::vector<int> order;
  aio::test::run_test(equal_deadlines(&order));
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});

  order.clear();
  aio::test::run_test(equal_deadline_sleeps(&order));
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("callback_handle::cancel keeps call_soon and call_later callbacks from running", "[event_loop]") {
  std::vector<std::string> log;
  aio::test::run_test(cancel_handles(&log));
  CHECK(log == std::vector<std::string>{"kept", "end@6.000000"});

  aio::callback_handle empty;
  CHECK_FALSE(empty.cancelled());
  empty.cancel();  // harmless on an empty handle
  CHECK(empty.when() == aio::time_point{});
}

TEST_CASE("stop() from a callback ends run_forever", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  int ticks = 0;
  loop.call_later(1s, [&] { ++ticks; });
  loop.call_later(2s, [&] { loop.stop(); });
  loop.call_later(3s, [&] { ticks += 100; });  // after stop: not run by this run_forever
  loop.run_forever();
  CHECK(ticks == 1);
  CHECK(loop.time() == aio::time_point{2s});
  // The loop can run again; the remaining timer fires then.
  loop.call_later(5s, [&] { loop.stop(); });
  loop.run_forever();
  CHECK(ticks == 101);
  CHECK(loop.time() == aio::time_point{7s});
}

TEST_CASE("stop() before the awaited work is done makes run_until_complete throw", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  loop.call_later(1s, [&] { loop.stop(); });
  CHECK_THROWS_AS(loop.run_until_complete(answer_after(5s, 1)), aio::invalid_state_error);
  CHECK(loop.time() == aio::time_point{1s});
}

TEST_CASE("an exception in a callback does not stop the loop", "[event_loop]") {
  CHECK(aio::test::run_test(callbacks_that_throw()) == std::vector<std::string>{"a", "b", "c"});
}

// --- time -----------------------------------------------------------------------------

TEST_CASE("virtual time: sequential sleeps add up, gathered sleeps overlap (guide: fetch_data)", "[event_loop]") {
  CHECK(aio::test::run_test(fetch_sequential()) == "Data from url1|Data from url2|Data from url3@3.000000");
  CHECK(aio::test::run_test(fetch_gathered()) == "Data from url1|Data from url2|Data from url3@1.000000");
}

TEST_CASE("guide's event loop: tasks A, B, C sleeping 2, 1, 3 s finish B, A, C", "[event_loop]") {
  std::vector<std::string> log;
  CHECK(aio::test::run_test(guide_event_loop(&log)) == "Result from A,Result from B,Result from C@3.000000");
  CHECK(log == std::vector<std::string>{"start A@0.000000", "start B@0.000000", "start C@0.000000",
                                        "done B@1.000000", "done A@2.000000", "done C@3.000000"});
}

TEST_CASE("a virtual-time loop starts at zero and jumps only when idle", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  CHECK(loop.uses_virtual_time());
  CHECK(loop.time() == aio::time_point{});
  CHECK(loop.run_until_complete(answer_after(90s, 3)) == 3);
  CHECK(loop.time() == aio::time_point{90s});
  CHECK(loop.run_until_complete(answer_after(10s, 4)) == 4);
  CHECK(loop.time() == aio::time_point{100s});
}

TEST_CASE("a steady-clock loop's time advances in real time", "[event_loop]") {
  aio::event_loop loop;
  CHECK_FALSE(loop.uses_virtual_time());
  const aio::time_point start = loop.time();
  aio::time_point fired{};
  loop.call_later(10ms, [&] {
    fired = aio::get_running_loop().time();
    loop.stop();
  });
  loop.run_forever();
  CHECK(fired - start >= 10ms);
  CHECK(loop.time() - start >= 10ms);
  CHECK(loop.time() - start < 5s);  // sanity: not wildly off
}

// --- deadlock ----------------------------------------------------------------------------

TEST_CASE("awaiting a future no one sets makes run throw deadlock_error", "[event_loop]") {
  CHECK_THROWS_MATCHES(aio::test::run_test(wait_forever()), aio::deadlock_error,
                       Catch::Matchers::Predicate<aio::deadlock_error>([](const auto& e) {
                         return std::string(e.what()).find("deadlock") != std::string::npos;
                       }));
  CHECK(aio::running_loop() == nullptr);

  aio::event_loop loop{aio::virtual_time};
  CHECK_THROWS_AS(loop.run_until_complete(wait_forever_with_child()), aio::deadlock_error);
  CHECK(loop.time() == aio::time_point{1s});  // timers ran first; only then was it stuck
  CHECK(loop.pending_tasks() == 2);
  loop.close();
  CHECK(loop.pending_tasks() == 0);

  aio::event_loop idle{aio::virtual_time};
  CHECK_THROWS_AS(idle.run_forever(), aio::deadlock_error);  // nothing could ever call stop()
}

TEST_CASE("run_until_complete(future) runs until a plain future is set", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  aio::future<int> f = loop.create_future<int>();
  loop.call_later(3s, [f]() mutable { f.set_result(12); });
  CHECK(loop.run_until_complete(f) == 12);
  CHECK(loop.time() == aio::time_point{3s});

  // Nobody sets this one: the report must be about the awaited future, not run_forever.
  aio::future<int> never = loop.create_future<int>();
  try {
    loop.run_until_complete(never);
    FAIL("no deadlock_error");
  } catch (const aio::deadlock_error& e) {
    CHECK_THAT(std::string(e.what()), !Catch::Matchers::Contains("run_forever"));
  }
}

// DESIGN.md: deadlock_error names "every blocked task and what it waits on".
TEST_CASE("deadlock_error names the blocked tasks", "[event_loop]") {
  aio::event_loop loop{aio::virtual_time};
  try {
    loop.run_until_complete(wait_forever_with_child());
    FAIL("no deadlock_error");
  } catch (const aio::deadlock_error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Matchers::Contains("main"));
    CHECK_THAT(message, Catch::Matchers::Contains("waiter"));
    // ...what each one waits on, and where (the line of the await; in a
    // release build, AIO_ASYNC_STACKS off, the coroutine's own line).
    CHECK_THAT(message, Catch::Matchers::Contains("'waiter' (waiting on an aio::future in wait_forever at "));
    CHECK_THAT(message, Catch::Matchers::Contains("'main' (waiting on an aio::future in wait_forever_with_child at "));
    CHECK_THAT(message, Catch::Matchers::Contains("test_event_loop.cpp:"));
  }
}

// --- cleanup ------------------------------------------------------------------------------

TEST_CASE("aio::run cancels the tasks main left pending", "[event_loop]") {
  counted::reset();
  int started = 0;
  int never_started = 0;
  int started_state = 0;
  CHECK(aio::test::run_test(leaves_tasks_behind(&started, &never_started, &started_state)) == 5);
  CHECK(started_state == 1);     // it had started when main returned
  CHECK(started == 13);          // its cleanup saw cancelled_error
  CHECK(never_started == 0);     // cancelled before its first step: the body never ran
  CHECK(counted::alive == 0);    // both frames are gone

  started = 0;
  CHECK_THROWS_MATCHES(aio::test::run_test(main_throws_with_tasks_pending(&started)), std::domain_error,
                       Catch::Matchers::Message("main failed"));
  CHECK(started == 33);  // cancelled and cleaned up before run rethrew
  CHECK(counted::alive == 0);
}

TEST_CASE("close() destroys pending tasks: destructors run, futures read cancelled", "[event_loop]") {
  counted::reset();
  int reached = 0;
  aio::test::captured_log log;
  {
    aio::event_loop loop{aio::virtual_time};
    aio::future<void> parent = loop.create_task(stuck_parent(&reached), "stuck-parent");
    aio::future<void> nested = loop.create_task(stuck_nested(&reached), "stuck-nested");
    aio::future<void> unstarted = loop.create_task(stuck_nested(&reached));
    aio::future<int> gate = loop.create_future<int>();
    aio::future<void> gated = loop.create_task(awaits_gate(gate, &reached));
    unstarted.cancel();  // never starts
    CHECK(loop.pending_tasks() == 4);
    CHECK(loop.run_until_complete(short_main()) == 1);
    CHECK(loop.pending_tasks() == 3);
    CHECK(unstarted.cancelled());
    CHECK(counted::alive == 4);  // stuck_parent's local, stuck_nested's and its child's, awaits_gate's

    loop.close();
    CHECK(loop.is_closed());
    CHECK(loop.pending_tasks() == 0);
    // Each reported once, by name and where it was suspended (asyncio: "Task
    // was destroyed but it is pending!").
    REQUIRE(log.lines.size() == 3);
    CHECK(log.lines[0].find("task 'stuck-parent' was still pending, suspended in ") != std::string::npos);
    CHECK(log.lines[0].find("test_event_loop.cpp:") != std::string::npos);
    CHECK(log.lines[1].find("task 'stuck-nested' was still pending, suspended in ") != std::string::npos);
    CHECK(counted::alive == 0);  // every frame of every chain destroyed
    CHECK(parent.done());
    CHECK(parent.cancelled());
    CHECK(nested.cancelled());
    CHECK(gated.cancelled());
    CHECK_THROWS_AS(parent.result(), aio::cancelled_error);
    CHECK_FALSE(gate.done());
    gate.set_result(5);  // its waiter died with the frame: nothing is resumed
    CHECK(reached == 0);

    loop.close();  // twice: harmless
    CHECK_THROWS_AS(loop.run_until_complete(short_main()), aio::invalid_state_error);
    CHECK_THROWS_AS(loop.create_task(short_main()), aio::invalid_state_error);
    CHECK_THROWS_AS(loop.run_forever(), aio::invalid_state_error);
  }
  CHECK(counted::alive == 0);
}

// asyncio: call_soon / call_later / call_at on a closed loop raise
// RuntimeError("Event loop is closed"); nothing may be queued where no one will
// ever run or free it.
TEST_CASE("scheduling a callback on a closed loop throws and keeps nothing alive", "[event_loop]") {
  auto token = std::make_shared<int>(0);
  {
    aio::event_loop loop{aio::virtual_time};
    loop.close();
    CHECK_THROWS_AS(loop.call_soon([token] {}), aio::invalid_state_error);
    CHECK_THROWS_AS(loop.call_later(1s, [token] {}), aio::invalid_state_error);
    CHECK_THROWS_AS(loop.call_at(aio::time_point{1s}, [token] {}), aio::invalid_state_error);
  }
  CHECK(token.use_count() == 1);
}

TEST_CASE("a loop destroyed with pending tasks and callbacks does not leak or crash", "[event_loop]") {
  counted::reset();
  int reached = 0;
  int ran = 0;
  std::optional<aio::future<void>> survivor;
  aio::callback_handle timer;
  aio::callback_handle soon;
  {
    aio::event_loop loop{aio::virtual_time};
    survivor = loop.create_task(stuck_nested(&reached));
    soon = loop.call_soon([&ran] { ++ran; });
    timer = loop.call_later(1h, [&ran] { ++ran; });
    CHECK(counted::alive == 0);  // nothing started yet
  }
  timer.cancel();  // handles may outlive their loop: cancel() is harmless then
  soon.cancel();
  CHECK(timer.cancelled());
  CHECK(timer.when() == aio::time_point{1h});
  CHECK(ran == 0);
  CHECK(reached == 0);
  CHECK(counted::alive == 0);
  REQUIRE(survivor);
  CHECK(survivor->cancelled());  // the future outlives its loop and reads cancelled
}

// --- the timer queue (detail/timer_queue.hpp) -------------------------------------

TEST_CASE("timer queue: pops in deadline order, FIFO on ties, with removals anywhere", "[event_loop][timers]") {
  // Against a reference: a std::map keyed by (deadline, arming order).
  std::mt19937 random{2026};
  std::vector<std::unique_ptr<aio::detail::timer_node>> nodes(3000);
  std::map<std::pair<std::int64_t, int>, aio::detail::timer_node*> reference;
  std::map<aio::detail::timer_node*, std::pair<std::int64_t, int>> key_of;
  std::map<aio::detail::timer_node*, std::size_t> index_of;
  aio::detail::timer_queue heap;
  int armed = 0;
  auto arm = [&](std::size_t i) {
    auto& n = nodes[i];
    if (!n) n = std::make_unique<aio::detail::timer_node>();
    const auto deadline = static_cast<std::int64_t>(random() % 500);  // many ties
    heap.push(n.get(), deadline, i % 2 == 0);  // half of them as sleeps: the mark must come back out
    index_of[n.get()] = i;
    reference[{deadline, armed}] = n.get();
    key_of[n.get()] = {deadline, armed};
    ++armed;
  };
  std::size_t mismatches = 0;
  for (int step = 0; step < 60'000; ++step) {
    const std::size_t i = random() % nodes.size();
    const unsigned action = random() % 3;
    if (action == 0 && !heap.empty()) {
      // Pop: must be the reference's first.
      const aio::detail::due_timer due = heap.pop();
      aio::detail::timer_node* popped = static_cast<aio::detail::timer_node*>(due.target());
      mismatches += popped != reference.begin()->second || popped->armed();
      mismatches += due.is_sleep() != (index_of[popped] % 2 == 0);
      reference.erase(key_of[popped]);
    } else if (nodes[i] && nodes[i]->armed()) {
      heap.remove(nodes[i].get());  // a cancel, anywhere in the heap
      mismatches += nodes[i]->armed();
      reference.erase(key_of[nodes[i].get()]);
    } else {
      arm(i);
    }
    mismatches += heap.size() != reference.size();
    if (!heap.empty()) mismatches += heap.top_deadline() != reference.begin()->first.first;
  }
  CHECK(mismatches == 0);
  CHECK(armed > 20'000);
}

TEST_CASE("timer queue: any arming order pops in deadline order, FIFO on ties", "[event_loop][timers]") {
  // The queue keeps sorted runs; each shape below makes runs differently:
  // one (increasing), one from its front (decreasing), a hundred (sawtooth,
  // as bench's sleep_timers), many (random), and equal deadlines throughout.
  auto increasing = [](std::size_t i) { return static_cast<std::int64_t>(i); };
  auto decreasing = [](std::size_t i) { return 100'000 - static_cast<std::int64_t>(i); };
  auto sawtooth = [](std::size_t i) { return static_cast<std::int64_t>(i / 100 + (i % 100) * 50); };
  std::mt19937 random{99};
  auto scattered = [&random](std::size_t) { return static_cast<std::int64_t>(random() % 5000); };
  auto ties = [](std::size_t i) { return static_cast<std::int64_t>(i % 3); };
  std::vector<std::function<std::int64_t(std::size_t)>> shapes{increasing, decreasing, sawtooth, scattered, ties};
  for (auto& deadline_of : shapes) {
    std::vector<aio::detail::timer_node> nodes(10'000);
    aio::detail::timer_queue queue;
    std::map<std::pair<std::int64_t, std::size_t>, aio::detail::timer_node*> reference;
    std::vector<std::int64_t> deadlines(nodes.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::int64_t d = deadlines[i] = deadline_of(i);
      queue.push(&nodes[i], d, false);
      reference[{d, i}] = &nodes[i];
      if (i % 7 == 6) {  // pops in between, as a running loop does
        mismatches += queue.top_deadline() != reference.begin()->first.first;
        mismatches += queue.pop().node() != reference.begin()->second;
        reference.erase(reference.begin());
      }
      if (i % 11 == 10 && nodes[i - 5].armed()) {  // and cancels
        queue.remove(&nodes[i - 5]);
        reference.erase({deadlines[i - 5], i - 5});
      }
    }
    std::size_t visited = 0;
    queue.for_each([&](aio::detail::timer_slot*) { ++visited; });
    mismatches += visited != reference.size();
    while (!queue.empty()) {
      mismatches += queue.top_deadline() != reference.begin()->first.first;
      mismatches += queue.pop().node() != reference.begin()->second;
      reference.erase(reference.begin());
    }
    CHECK(mismatches == 0);
    CHECK(reference.empty());
  }
}

TEST_CASE("timer queue: cancelling most timers rebuilds it, and the rest still pop in order", "[event_loop][timers]") {
  // Cancelled entries stay in the heap until dropped at the top; once they
  // outnumber the armed ones the heap is rebuilt from those. Either way a
  // cancelled timer never comes out and the others keep deadline+FIFO order.
  std::mt19937 random{7};
  std::vector<aio::detail::timer_node> nodes(20'000);
  aio::detail::timer_queue heap;
  std::map<std::pair<std::int64_t, std::size_t>, aio::detail::timer_node*> reference;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto deadline = static_cast<std::int64_t>(random() % 2000);
    heap.push(&nodes[i], deadline, false);
    reference[{deadline, i}] = &nodes[i];
  }
  // Cancel 9 in 10, in random order, popping now and then meanwhile.
  std::vector<std::size_t> order(nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), random);
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < order.size() * 9 / 10; ++k) {
    aio::detail::timer_node& n = nodes[order[k]];
    if (n.armed()) {
      heap.remove(&n);
      for (auto it = reference.begin(); it != reference.end(); ++it)
        if (it->second == &n) {
          reference.erase(it);
          break;
        }
    }
    if (k % 97 == 0) {
      aio::detail::timer_node* popped = heap.pop().node();
      mismatches += popped != reference.begin()->second;
      reference.erase(reference.begin());
    }
    mismatches += heap.size() != reference.size();
  }
  while (!heap.empty()) {
    mismatches += heap.top_deadline() != reference.begin()->first.first;
    aio::detail::timer_node* popped = heap.pop().node();
    mismatches += popped != reference.begin()->second || popped->armed();
    reference.erase(reference.begin());
  }
  CHECK(mismatches == 0);
  CHECK(reference.empty());
  // Arming again after the heap emptied through cancels alone reuses it cleanly.
  for (std::size_t i = 0; i < 10; ++i) heap.push(&nodes[i], 100 - static_cast<std::int64_t>(i), false);
  for (std::size_t i = 0; i < 9; ++i) heap.remove(&nodes[i]);
  CHECK(heap.size() == 1);
  CHECK(heap.top_deadline() == 91);
  CHECK(heap.pop().node() == &nodes[9]);
  CHECK(heap.empty());
  // And after every armed timer was cancelled (the heap forgets them all).
  for (std::size_t i = 0; i < 3; ++i) heap.push(&nodes[i], 5, false);
  for (std::size_t i = 0; i < 3; ++i) heap.remove(&nodes[i]);
  CHECK(heap.empty());
  heap.push(&nodes[3], 7, false);
  heap.push(&nodes[4], 6, false);
  CHECK(heap.pop().node() == &nodes[4]);
  CHECK(heap.pop().node() == &nodes[3]);
  CHECK(heap.empty());
}

TEST_CASE("timer queue: after a mass cancellation the survivors get new slots and still pop and cancel right",
          "[event_loop][timers]") {
  // Big enough for the rebuild to give memory back: the runs are shortened in
  // place (rotated first: the queue popped some, so a run starts mid-block)
  // and the live timers renumbered. Half the timers are armed in increasing
  // order (one long run), then half at random (many runs).
  std::mt19937 random{11};
  const std::size_t count = 200'000;
  std::vector<aio::detail::timer_node> nodes(count);
  std::vector<std::int64_t> deadline(count);
  aio::detail::timer_queue queue;
  for (const std::size_t parity : {0, 1})
    for (std::size_t i = parity; i < count; i += 2) {
      deadline[i] = parity == 0 ? static_cast<std::int64_t>(i) : static_cast<std::int64_t>(random() % count);
      queue.push(&nodes[i], deadline[i], i % 3 == 0);
    }
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  auto armed_before = [](std::size_t a, std::size_t b) { return a % 2 != b % 2 ? a % 2 == 0 : a < b; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return deadline[a] != deadline[b] ? deadline[a] < deadline[b] : armed_before(a, b);
  });
  std::size_t mismatches = 0;
  std::size_t next_due = 0;
  for (; next_due < 1000; ++next_due) mismatches += queue.pop().target() != &nodes[order[next_due]];
  // Cancel all but about 1 in 20 of the rest, in random order.
  std::vector<std::size_t> victims(order.begin() + 1000, order.end());
  std::shuffle(victims.begin(), victims.end(), random);
  victims.resize(victims.size() * 19 / 20);
  for (std::size_t i : victims) queue.remove(&nodes[i]);
  // Then some of the survivors too: their slots are the renumbered ones.
  std::size_t late_cancels = 0;
  for (std::size_t k = 1000; k < count && late_cancels < 100; ++k)
    if (nodes[order[k]].armed() && k % 3 == 0) {
      queue.remove(&nodes[order[k]]);
      ++late_cancels;
    }
  std::size_t survivors = 0;
  for (std::size_t k = next_due; k < count; ++k) survivors += nodes[order[k]].armed();
  CHECK(queue.size() == survivors);
  for (std::size_t k = next_due; k < count; ++k) {
    const std::size_t i = order[k];
    if (!nodes[i].armed()) continue;
    const aio::detail::due_timer due = queue.pop();
    mismatches += due.target() != &nodes[i] || due.is_sleep() != (i % 3 == 0) || nodes[i].armed();
  }
  CHECK(mismatches == 0);
  CHECK(late_cancels == 100);
  CHECK(queue.empty());
}

// --- the ready queue (detail/ready_queue.hpp) -------------------------------

TEST_CASE("ready queue: FIFO across growth, also when full while wrapped around", "[event_loop]") {
  // The ring doubles in place (realloc) and moves the part that had wrapped to
  // its start behind the end: every front position must survive that.
  for (const std::size_t offset : {0, 1, 511, 1023}) {
    aio::detail::ready_queue q;
    // Entries carrying the numbers 1, 2, 3... (as 8-byte-aligned "pointers").
    auto entry = [](std::uintptr_t i) { return aio::detail::ready_entry::callback(reinterpret_cast<void*>(i << 3)); };
    auto number = [](aio::detail::ready_entry e) { return reinterpret_cast<std::uintptr_t>(e.pointer()) >> 3; };
    for (std::size_t i = 0; i < offset; ++i) q.push(entry(0));
    for (std::size_t i = 0; i < offset; ++i) (void)q.pop();  // the front is now at `offset`
    std::uintptr_t pushed = 0, popped = 0;
    std::size_t out_of_order = 0;
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 3000; ++i) q.push(entry(++pushed));
      for (int i = 0; i < 1000; ++i) out_of_order += number(q.pop()) != ++popped;
    }
    CHECK(q.size() == pushed - popped);
    while (!q.empty()) out_of_order += number(q.pop()) != ++popped;
    CHECK(out_of_order == 0);
    CHECK(popped == 18'000);
  }
}
