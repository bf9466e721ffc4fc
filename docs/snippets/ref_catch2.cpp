// docs/reference/catch2.md: AIO_TEST_CASE, a Catch2 test whose body is a coroutine.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
// [test]
#include <aio/catch2.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);
  co_return "Data from " + url;
}

AIO_TEST_CASE("fetch_data returns the page", "[fetch]") {
  std::string page = co_await fetch_data("url1");  // await first...
  REQUIRE(page == "Data from url1");               // ...then check
  aio::testing::require_elapsed(1s);
}

AIO_TEST_CASE("a test that leaves a task pending fails", "[!shouldfail]") {
  auto forgotten = aio::create_task(fetch_data("url2"));
  co_return;
}
// [/test]

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
