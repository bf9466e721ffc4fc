// docs/guide/18-best-practices.md: the guide's checklist in one small
// program — fetch six URLs concurrently (gather), at most two at a time
// (semaphore), each within a deadline (wait_for), one failure not spoiling the
// rest (gather_settled), cleanup by RAII, blocking work on a thread. On
// virtual time, so the times printed are exact.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [connection]
/// A resource with a cleanup: the destructor runs however the task ends
/// (returns, throws, times out, is cancelled) — the `async with` of C++.
class connection {
 public:
  explicit connection(std::string url) : url_(std::move(url)) {}
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { std::printf("  t=%.1f closed %s\n", now(), url_.c_str()); }

 private:
  std::string url_;
};
// [/connection]

// [fetch]
/// A fake remote server: "slow" takes 5 s, "broken" fails after 1 s, the rest take 1 s.
aio::task<std::string> fetch(std::string url) {
  connection conn{url};
  co_await aio::sleep(url == "slow" ? 5s : 1s);
  if (url == "broken") throw std::runtime_error("HTTP 500 from " + url);
  co_return "page of " + url;
}

/// Blocking work (parsing, hashing, a synchronous library) goes to a thread.
std::size_t parse(std::string page) { return page.size(); }

aio::task<std::size_t> fetch_and_parse(aio::semaphore& limit, std::string url) {
  auto permit = co_await limit.acquire();      // at most two fetches at a time
  auto fetching = aio::wait_for(fetch(url), 2s);  // a deadline for every network call
  std::string page = co_await std::move(fetching);
  co_return co_await aio::to_thread(parse, std::move(page));
}
// [/fetch]

// [main]
aio::task<void> async_main() {
  std::vector<std::string> urls{"a", "b", "slow", "c", "broken", "d"};
  aio::semaphore limit{2};  // outlives the fetches: gather_settled awaits them all
  std::vector<aio::task<std::size_t>> fetches;
  for (const auto& url : urls) fetches.push_back(fetch_and_parse(limit, url));
  auto outcomes = co_await aio::gather_settled(std::move(fetches));

  for (std::size_t i = 0; i < urls.size(); ++i) {
    try {
      std::printf("%-6s %zu bytes\n", urls[i].c_str(), outcomes[i].value());
    } catch (const aio::timeout_error&) {
      std::printf("%-6s timed out\n", urls[i].c_str());
    } catch (const std::exception& e) {
      std::printf("%-6s failed: %s\n", urls[i].c_str(), e.what());
    }
  }
  std::printf("all done at t=%.1f\n", now());
}

int main() { aio::run(async_main(), aio::virtual_time); }
// [/main]
