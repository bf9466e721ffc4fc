// Tests for aio/catch2.hpp: AIO_TEST_CASE, a Catch2 test case whose body is a
// coroutine run by aio::testing::run. The [!shouldfail] cases pass only if
// their body really fails: that is how these tests show that a failure inside
// the coroutine (a CHECK, a REQUIRE, a task left pending, an exception never
// retrieved) reaches Catch2.
#include <aio/catch2.hpp>

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);
  co_return "Data from " + url;
}

aio::task<int> fails(std::string what) {
  co_await aio::sleep(500ms);
  throw std::runtime_error(what);
}

aio::task<void> sleep_forever() { co_await aio::sleep(24h); }

aio::task<void> require_inside_child(int value) {
  co_await aio::yield();
  REQUIRE(value == 2);
}

double loop_seconds() {
  return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count();
}

int sections_entered = 0;

}  // namespace

AIO_TEST_CASE("the body is a coroutine: co_await, then REQUIRE", "[catch2]") {
  const std::string page = co_await fetch_data("url1");  // await first, then check
  REQUIRE(page == "Data from url1");
  CHECK(loop_seconds() == 1.0);  // virtual time: one simulated second, no real wait
}

AIO_TEST_CASE("concurrent awaits inside a test case take the longest one's time", "[catch2]") {
  aio::testing::stopwatch watch;
  auto [a, b, c] = co_await aio::gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"));
  CHECK(a == "Data from url1");
  CHECK(b == "Data from url2");
  CHECK(c == "Data from url3");
  watch.require_elapsed(1s);
  aio::testing::require_elapsed(1s);
}

AIO_TEST_CASE("tasks created in the body and awaited are fine", "[catch2]") {
  aio::future<std::string> f = aio::create_task(fetch_data("url1"), "fetch");
  co_await aio::sleep(250ms);
  CHECK_FALSE(f.done());
  const std::string page = co_await f;
  CHECK(page == "Data from url1");
}

AIO_TEST_CASE("exceptions: catch them in the body, or settle them with gather_settled", "[catch2]") {
  bool caught = false;
  try {
    (void)co_await fails("boom");
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "boom";
  }
  CHECK(caught);

  auto [failed] = co_await aio::gather_settled(fails("again"));  // the form catch2.hpp documents
  CHECK(failed.has_exception());

  auto settled = co_await aio::gather_settled(fails("again"), fetch_data("url2"));
  CHECK(std::get<0>(settled).has_exception());
  REQUIRE(std::get<1>(settled).has_value());
  CHECK(std::get<1>(settled).value() == "Data from url2");
}

AIO_TEST_CASE("SECTIONs work inside the coroutine, each run on a fresh loop", "[catch2]") {
  CHECK(loop_seconds() == 0.0);
  co_await aio::sleep(1s);
  SECTION("first") {
    ++sections_entered;
    const std::string page = co_await fetch_data("a");
    CHECK(page == "Data from a");
    CHECK(loop_seconds() == 2.0);
  }
  SECTION("second") {
    ++sections_entered;
    co_await aio::sleep(5s);
    CHECK(loop_seconds() == 6.0);
  }
  INFO("sections entered so far: " << sections_entered);
  CHECK(sections_entered >= 1);
}

AIO_TEST_CASE("co_return ends the test early", "[catch2]") {
  co_await aio::yield();
  if (loop_seconds() == 0.0) co_return;
  FAIL("not reached");
}

AIO_TEST_CASE("a name alone, without tags") {
  const std::string page = co_await fetch_data("x");
  CHECK_FALSE(page.empty());
}

// --- failures reach Catch2 -----------------------------------------------------

AIO_TEST_CASE("a failing CHECK after a co_await is reported", "[catch2][!shouldfail]") {
  const std::string page = co_await fetch_data("url1");
  CHECK(page == "something else");
  CHECK(page == "Data from url1");  // CHECK goes on after a failure
}

AIO_TEST_CASE("a failing REQUIRE ends the coroutine", "[catch2][!shouldfail]") {
  co_await aio::sleep(1s);
  REQUIRE(loop_seconds() == 2.0);
  FAIL("not reached: REQUIRE threw out of the coroutine");
}

AIO_TEST_CASE("a failing REQUIRE inside an awaited child task is reported", "[catch2][!shouldfail]") {
  co_await require_inside_child(1);
}

AIO_TEST_CASE("a task left pending fails the test with its name", "[catch2][!shouldfail]") {
  aio::future<void> f = aio::create_task(sleep_forever(), "left behind");
  co_await aio::yield();
}

AIO_TEST_CASE("an exception never retrieved fails the test", "[catch2][!shouldfail]") {
  aio::future<int> f = aio::create_task(fails("unread"), "unread");
  co_await aio::sleep(1s);
}

AIO_TEST_CASE("a wrong elapsed time fails the test", "[catch2][!shouldfail]") {
  co_await aio::sleep(2s);
  aio::testing::require_elapsed(1s);
}

AIO_TEST_CASE("an unexpected exception from the body fails the test", "[catch2][!shouldfail]") {
  (void)co_await fails("unexpected");
}
