// The asyncio guide's "Testing Async Code" section, in C++: its two
// pytest-asyncio tests as AIO_TEST_CASEs, plus the test the guide's advice
// leads to next, an async dependency replaced by a mock (unittest.mock.AsyncMock)
// and checked to have been awaited. examples/14_testing.cpp runs the same
// checks without Catch2.
//
//     @pytest.mark.asyncio                      AIO_TEST_CASE("...") {
//     async def test_async_function():            auto result = co_await my_async_function();
//         result = await my_async_function()      REQUIRE(result == "expected");
//         assert result == "expected"           }
#include <aio/catch2.hpp>

#include <aio/log.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

// --- the code under test ---------------------------------------------------------

aio::task<std::string> my_async_function() {
  co_await aio::sleep(500ms);  // some I/O
  co_return "expected";
}

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);  // a network round trip
  co_return "Data from " + url;
}

/// An async dependency, injected: how C++ code lets a test replace it (Python
/// would patch the module attribute instead).
using fetcher = std::function<aio::task<std::string>(std::string url)>;

/// Fetches every page concurrently through `fetch`; returns them in order.
aio::task<std::vector<std::string>> fetch_all(fetcher fetch, std::vector<std::string> urls) {
  std::vector<aio::task<std::string>> requests;
  for (std::string& url : urls) requests.push_back(fetch(std::move(url)));
  co_return co_await aio::gather(std::move(requests));
}

/// The same, with a bug: it starts the requests but waits for none of them.
aio::task<std::vector<std::string>> fetch_all_forgetting_to_await(fetcher fetch, std::vector<std::string> urls) {
  for (std::string& url : urls) (void)fetch(std::move(url));  // [[nodiscard]] silenced: the bug
  co_await aio::yield();
  co_return std::vector<std::string>{};
}

// --- the mock ----------------------------------------------------------------

/// unittest.mock.AsyncMock for a fetcher. A C++ task is lazy, like a Python
/// coroutine object: calling the mock is not awaiting it. `calls` records the
/// calls, `awaited` the awaits (the mock's body only runs when awaited), so a
/// test can tell assert_called from assert_awaited.
struct fetch_mock {
  std::vector<std::string> calls;
  std::vector<std::string> awaited;
  aio::duration latency = 1s;

  fetcher as_fetcher() {
    return [this](std::string url) {  // not a coroutine: it only builds the task
      calls.push_back(url);
      return respond(this, std::move(url));
    };
  }

 private:
  static aio::task<std::string> respond(fetch_mock* self, std::string url) {
    self->awaited.push_back(url);
    co_await aio::sleep(self->latency);
    co_return "mocked " + url;
  }
};

/// Takes what aio::log reports while it lives, then restores the previous handler.
struct log_capture {
  std::vector<std::string> lines;
  aio::log_handler previous = aio::set_log_handler([this](std::string_view m) { lines.emplace_back(m); });
  log_capture() = default;
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  ~log_capture() { aio::set_log_handler(std::move(previous)); }
};

}  // namespace

// --- the guide's two tests -------------------------------------------------------

AIO_TEST_CASE("test_async_function", "[guide][testing]") {
  const std::string result = co_await my_async_function();
  REQUIRE(result == "expected");
}

AIO_TEST_CASE("test_concurrent_operations", "[guide][testing]") {
  std::vector<aio::task<std::string>> fetches;
  fetches.push_back(fetch_data("url1"));
  fetches.push_back(fetch_data("url2"));
  fetches.push_back(fetch_data("url3"));
  const std::vector<std::string> results = co_await aio::gather(std::move(fetches));
  REQUIRE(results.size() == 3);
  // What pytest cannot check cheaply: they ran concurrently (1 s, not 3), and
  // on virtual time the check costs no real second.
  aio::testing::require_elapsed(1s);
}

// --- mocking an async dependency ----------------------------------------------------

AIO_TEST_CASE("fetch_all awaits its mocked fetcher once per url, concurrently", "[guide][testing]") {
  fetch_mock mock;
  std::vector<std::string> urls{"url1", "url2", "url3"};  // named: no braced list inside co_await (g++ 12)
  const std::vector<std::string> pages = co_await fetch_all(mock.as_fetcher(), urls);
  CHECK(pages == std::vector<std::string>{"mocked url1", "mocked url2", "mocked url3"});
  CHECK(mock.calls == std::vector<std::string>{"url1", "url2", "url3"});    // assert_has_calls
  CHECK(mock.awaited == std::vector<std::string>{"url1", "url2", "url3"});  // assert_has_awaits
  aio::testing::require_elapsed(mock.latency);  // concurrently: one latency, not three
}

AIO_TEST_CASE("the mock tells a call from an await", "[guide][testing]") {
  // In debug mode (AIO_DEBUG=1) aio also reports each task destroyed without
  // being awaited, which would fail the test: here that bug is the point, so
  // the test takes aio's reports itself while the buggy code runs.
  log_capture expected_reports;
  fetch_mock mock;
  std::vector<std::string> urls{"url1", "url2"};
  const std::vector<std::string> pages = co_await fetch_all_forgetting_to_await(mock.as_fetcher(), urls);
  CHECK(pages.empty());
  CHECK(mock.calls.size() == 2);  // assert_called: passes
  CHECK(mock.awaited.empty());    // assert_awaited would fail: the bug is caught
}
