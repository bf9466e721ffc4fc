#include <aio/log.hpp>

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/captured_log.hpp"
#include "support/catch.hpp"
#include "support/run_test.hpp"

static_assert(std::is_same_v<aio::log_handler, std::function<void(std::string_view)>>);

namespace {

using aio::test::captured_log;

aio::task<void> fail(std::string what) {
  co_await aio::yield();
  throw std::runtime_error(what);
}

aio::task<void> drop_failed_task() {
  aio::future<void> f = aio::create_task(fail("lost"), "dropped");
  co_await aio::sleep(std::chrono::seconds(1));
  // f goes away here with its exception unread
}

aio::task<void> read_failed_task() {
  aio::future<void> f = aio::create_task(fail("seen"), "read");
  co_await aio::sleep(std::chrono::seconds(1));
  CHECK(f.exception() != nullptr);
}

}  // namespace

TEST_CASE("a task whose exception is never retrieved is reported once, with its name", "[log]") {
  captured_log log;
  aio::test::run_test(drop_failed_task());
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("'dropped'") != std::string::npos);
  CHECK(log.lines[0].find("never retrieved: lost") != std::string::npos);
}

TEST_CASE("a task whose exception was read is not reported", "[log]") {
  captured_log log;
  aio::test::run_test(read_failed_task());
  CHECK(log.lines.empty());
}

TEST_CASE("a plain future's unread exception is reported without a task name", "[log]") {
  captured_log log;
  {
    aio::future<int> f;
    f.set_exception(std::runtime_error("plain"));
  }
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].rfind("aio: future exception was never retrieved: plain", 0) == 0);
}

TEST_CASE("an exception escaping a callback is logged and the loop goes on", "[log]") {
  captured_log log;
  aio::event_loop loop{aio::virtual_time};
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("callback boom"); });
  loop.call_soon([&] {
    ++after;
    loop.stop();
  });
  loop.run_forever();
  CHECK(after == 1);
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0] == "aio: exception in callback: callback boom");
}

TEST_CASE("set_log_handler returns the previous handler; an empty one restores stderr", "[log]") {
  int calls = 0;
  aio::log_handler old = aio::set_log_handler([&](std::string_view) { ++calls; });
  aio::log("hello");
  CHECK(calls == 1);
  aio::log_handler mine = aio::set_log_handler(std::move(old));
  REQUIRE(mine);
  mine("direct");
  CHECK(calls == 2);
}
