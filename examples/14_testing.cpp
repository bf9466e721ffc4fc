// 14 — Testing Async Code (asyncio guide).
//
// The guide tests with pytest-asyncio: `@pytest.mark.asyncio` makes an
// `async def test_...` run on an event loop. aio::testing::run is that, with
// no framework: it runs a coroutine as a test on a fresh loop on *virtual
// time* (sleeps jump, so the guide's one-second fetches cost microseconds, yet
// loop.time() reads the simulated seconds), and it fails the test for what
// asyncio only warns about: a task left pending, an exception never retrieved.
//
// This program runs the guide's two tests, a third that mocks an async
// dependency (unittest.mock.AsyncMock) and checks it was awaited, then two
// tests with deliberate mistakes, to show what a failure looks like. With
// Catch2, the same tests are AIO_TEST_CASEs (<aio/catch2.hpp>): see
// tests/test_guide_testing.cpp.
//
// Unlike the other examples, nothing here sleeps for real: that is the point.

#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- the code under test ---------------------------------------------------------

aio::task<std::string> my_async_function() {
  co_await aio::sleep(500ms);  // some I/O
  co_return "expected";
}

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);  // a network round trip
  co_return "Data from " + url;
}

/// An async dependency, injected as a parameter: how C++ code lets a test
/// replace it (Python would patch the module attribute instead).
using fetcher = std::function<aio::task<std::string>(std::string url)>;

/// Fetches every page concurrently through `fetch`; returns them in order.
aio::task<std::vector<std::string>> fetch_all(fetcher fetch, std::vector<std::string> urls) {
  std::vector<aio::task<std::string>> requests;
  for (std::string& url : urls) requests.push_back(fetch(std::move(url)));
  co_return co_await aio::gather(std::move(requests));
}

// --- a tiny assertion, since this program uses no test framework --------------------

/// `assert cond`: fails the test with aio::testing's own exception type.
void require(bool cond, const char* what) {
  if (!cond) throw aio::testing::test_failure(std::string("assertion failed: ") + what);
}

// --- the guide's tests ------------------------------------------------------------

// [guide_tests]
// @pytest.mark.asyncio
// async def test_async_function():
//     result = await my_async_function()
//     assert result == "expected"
aio::task<void> test_async_function() {
  std::string result = co_await my_async_function();
  require(result == "expected", "result == \"expected\"");
}

// @pytest.mark.asyncio
// async def test_concurrent_operations():
//     results = await asyncio.gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"))
//     assert len(results) == 3
aio::task<void> test_concurrent_operations() {
  std::vector<aio::task<std::string>> fetches;
  fetches.push_back(fetch_data("url1"));
  fetches.push_back(fetch_data("url2"));
  fetches.push_back(fetch_data("url3"));
  std::vector<std::string> results = co_await aio::gather(std::move(fetches));
  require(results.size() == 3, "len(results) == 3");
  // And what the guide's test cannot check cheaply: the three ran
  // concurrently, in one second of loop time, not three.
  aio::testing::require_elapsed(1s);
}
// [/guide_tests]

// --- mocking an async dependency ----------------------------------------------------

// [mock]
/// unittest.mock.AsyncMock for a fetcher. A task is lazy, like a Python
/// coroutine object: calling the mock is not awaiting it. `calls` records the
/// calls, `awaited` the awaits (the body runs only when awaited).
struct fetch_mock {
  std::vector<std::string> calls;
  std::vector<std::string> awaited;

  fetcher as_fetcher() {
    return [this](std::string url) {  // not a coroutine: it only builds the task
      calls.push_back(url);
      return respond(this, std::move(url));
    };
  }

 private:
  static aio::task<std::string> respond(fetch_mock* self, std::string url) {
    self->awaited.push_back(url);
    co_await aio::sleep(1s);
    co_return "mocked " + url;
  }
};

aio::task<void> test_fetch_all_with_a_mock() {
  fetch_mock mock;
  std::vector<std::string> urls{"url1", "url2", "url3"};  // named: no braced list inside co_await (g++ 12)
  std::vector<std::string> pages = co_await fetch_all(mock.as_fetcher(), urls);
  require(pages == std::vector<std::string>{"mocked url1", "mocked url2", "mocked url3"}, "pages");
  require(mock.awaited == urls, "mock.assert_has_awaits(url1, url2, url3)");
  aio::testing::require_elapsed(1s);  // concurrently
}
// [/mock]

// --- deliberate mistakes ----------------------------------------------------------

// [mistakes]
aio::task<void> refresh_cache() { co_await aio::sleep(1h); }

/// Starts a background task and forgets it: asyncio would run on and, at
/// best, log "Task was destroyed but it is pending!" at exit.
aio::task<void> test_forgets_a_task() {
  aio::future<void> refresh = aio::create_task(refresh_cache(), "refresh");
  std::string result = co_await my_async_function();
  require(result == "expected", "result == \"expected\"");
}

/// Expects the fetches to take one second but runs them one after the other.
aio::task<void> test_sequential_by_mistake() {
  std::string a = co_await fetch_data("url1");
  std::string b = co_await fetch_data("url2");
  require(!a.empty() && !b.empty(), "pages");
  aio::testing::require_elapsed(1s);
}
// [/mistakes]

// --- a runner: what pytest does -------------------------------------------------------

// [runner]
bool run_test(const char* name, aio::task<void> test) {
  try {
    aio::testing::run(std::move(test));
    std::printf("PASSED %s\n", name);
    return true;
  } catch (const aio::testing::test_failure& e) {
    std::printf("FAILED %s\n  %s\n", name, e.what());
    return false;
  }
}
// [/runner]

int main() {
  const auto real_start = std::chrono::steady_clock::now();
  int passed = 0;
  passed += run_test("test_async_function", test_async_function());
  passed += run_test("test_concurrent_operations", test_concurrent_operations());
  passed += run_test("test_fetch_all_with_a_mock", test_fetch_all_with_a_mock());

  std::printf("\nTwo tests with mistakes, to show how they fail:\n");
  int caught = 0;
  caught += !run_test("test_forgets_a_task", test_forgets_a_task());
  caught += !run_test("test_sequential_by_mistake", test_sequential_by_mistake());

  const double real = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
  // The five tests sleep 5 s of loop time between them (0.5 + 1 + 1 + 0.5 + 2).
  std::printf("\n%d passed, %d mistakes caught: 5 s of loop time in %s of real time\n", passed, caught,
              real < 0.1 ? "well under 0.1 s" : "more than 0.1 s (a slow machine?)");
  return passed == 3 && caught == 2 ? 0 : 1;
}
