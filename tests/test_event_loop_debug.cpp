#include <aio/event_loop.hpp>

#include <aio/log.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/captured_log.hpp"
#include "support/catch.hpp"

using namespace std::chrono_literals;

namespace {

using aio::test::captured_log;

aio::task<void> blocks_the_loop() {
  // The guide's first pitfall: a blocking call inside a coroutine.
  std::this_thread::sleep_for(30ms);
  co_return;
}

aio::task<int> never_awaited_body(int* ran) {
  ++*ran;
  co_return 1;
}

aio::task<void> forgets_to_await(int* ran) {
  auto forgotten = never_awaited_body(ran);  // created, never awaited
  co_await aio::yield();
}  // destroyed here

constexpr unsigned line_created = __LINE__ + 2;
aio::task<void> main_with_slow_child() {
  aio::future<void> f = aio::create_task(blocks_the_loop(), "sleepy");
  co_await f;
}

}  // namespace

TEST_CASE("debug mode is off by default and can be switched", "[event_loop][debug]") {
  aio::event_loop loop{aio::virtual_time};
  // (AIO_DEBUG may be set by whoever runs the tests: only check the switch.)
  loop.set_debug(true);
  CHECK(loop.get_debug());
  loop.set_debug(false);
  CHECK_FALSE(loop.get_debug());
  CHECK(loop.slow_callback_duration == std::chrono::milliseconds(100));
}

TEST_CASE("debug mode reports a step that blocks the loop too long, with the task's name", "[event_loop][debug]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(true);
  loop.slow_callback_duration = 10ms;
  loop.run_until_complete(main_with_slow_child());
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("task 'sleepy', created at ") != std::string::npos);
  CHECK(log.lines[0].find("test_event_loop_debug.cpp:" + std::to_string(line_created)) != std::string::npos);
  CHECK(log.lines[0].find("coroutine blocks_the_loop at ") != std::string::npos);
  CHECK(log.lines[0].find("blocked the event loop") != std::string::npos);
}

TEST_CASE("without debug mode a slow step is not reported", "[event_loop][debug]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(false);
  loop.slow_callback_duration = 10ms;
  loop.run_until_complete(main_with_slow_child());
  CHECK(log.lines.empty());
}

TEST_CASE("debug mode reports a task destroyed without ever being awaited", "[event_loop][debug]") {
  captured_log log;
  int ran = 0;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(true);
  loop.run_until_complete(forgets_to_await(&ran));
  CHECK(ran == 0);
  REQUIRE(log.lines.size() == 1);
  // Named by the coroutine and where it is defined, as Python names the
  // coroutine object in "coroutine 'f' was never awaited".
  CHECK(log.lines[0].find("coroutine never_awaited_body at ") != std::string::npos);
  CHECK(log.lines[0].find("test_event_loop_debug.cpp:") != std::string::npos);
  CHECK(log.lines[0].find("was never awaited") != std::string::npos);
}

namespace {

aio::task<void> blocks_after_an_await() {
  co_await aio::sleep(1s);
  std::this_thread::sleep_for(30ms);  // the blocking call, in the second step
}

aio::task<void> main_with_slow_second_step() {
  aio::future<void> f = aio::create_task(blocks_after_an_await(), "second-step");
  co_await f;
}

aio::task<int> fails_deep() {
  co_await aio::sleep(1s);
  throw std::runtime_error("disk on fire");
}

aio::task<int> awaits_failing_child() {
  int v = co_await fails_deep();
  co_return v;
}

aio::task<int> awaits_failing_task() {
  aio::future<int> f = aio::create_task(awaits_failing_child(), "worker");
  int v = co_await f;
  co_return v;
}

}  // namespace

TEST_CASE("debug mode names the task and the await a slow later step resumed from", "[event_loop][debug]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(true);
  loop.slow_callback_duration = 10ms;
  loop.run_until_complete(main_with_slow_second_step());
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("a step of task 'second-step'") != std::string::npos);
  CHECK(log.lines[0].find("resuming blocks_after_an_await after the await at ") != std::string::npos);
  CHECK(log.lines[0].find("test_event_loop_debug.cpp:") != std::string::npos);
}

TEST_CASE("debug mode reports the async chain an exception escaping run travelled through", "[event_loop][debug]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(true);
  CHECK_THROWS_WITH(loop.run_until_complete(awaits_failing_task()), "disk on fire");
  REQUIRE(log.lines.size() == 1);
  const std::string& report = log.lines[0];
  INFO(report);
  CHECK(report.find("exception escaped run_until_complete (or aio::run) from task 'main': disk on fire") != std::string::npos);
  // Innermost first, across the task boundary (worker -> main).
  const auto deep = report.find("fails_deep at ");
  const auto child = report.find("awaits_failing_child at ");
  const auto outer = report.find("awaits_failing_task at ");
  REQUIRE(deep != std::string::npos);
  REQUIRE(child != std::string::npos);
  REQUIRE(outer != std::string::npos);
  CHECK(deep < child);
  CHECK(child < outer);
}

TEST_CASE("without debug mode an escaping exception is only thrown, not reported", "[event_loop][debug]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(false);
  CHECK_THROWS_WITH(loop.run_until_complete(awaits_failing_task()), "disk on fire");
  CHECK(log.lines.empty());
}

namespace {
aio::task<void> fails_unwatched() {
  co_await aio::sleep(1s);
  throw std::runtime_error("nobody looked");
}
constexpr unsigned line_unwatched = __LINE__ + 2;
aio::task<void> drops_a_failing_task() {
  aio::create_task(fails_unwatched(), "unwatched");
  co_await aio::sleep(2s);
}
}  // namespace

TEST_CASE("an exception nobody retrieved is reported always, with where the task was created in debug mode", "[event_loop][debug]") {
  for (bool debug : {false, true}) {
    captured_log log;
    {
      aio::event_loop loop{aio::virtual_time};
      loop.set_debug(debug);
      loop.run_until_complete(drops_a_failing_task());
    }
    REQUIRE(log.lines.size() == 1);
    CHECK(log.lines[0].find("task 'unwatched'") != std::string::npos);
    CHECK(log.lines[0].find("exception was never retrieved: nobody looked") != std::string::npos);
    const bool located = log.lines[0].find("(created at ") != std::string::npos &&
                         log.lines[0].find("test_event_loop_debug.cpp:" + std::to_string(line_unwatched)) != std::string::npos;
    CHECK(located == debug);
  }
}
