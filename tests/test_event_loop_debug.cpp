#include <aio/event_loop.hpp>

#include <aio/log.hpp>
#include <aio/tasks.hpp>

#include <chrono>
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
  CHECK(log.lines[0].find("task 'sleepy'") != std::string::npos);
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
  CHECK(log.lines[0].find("without ever being awaited") != std::string::npos);
}
