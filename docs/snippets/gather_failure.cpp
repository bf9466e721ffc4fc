// docs/guide/06-concurrent-http.md: what gather does when one child fails,
// and gather_settled (Python's return_exceptions=True), on a virtual-time
// loop (sleeps jump, so the times printed are exact).

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

/// The loop's clock in seconds (a virtual-time loop starts at 0).
double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [fetch]
/// "url2" fails after 0.5 s; the others answer after 1 s.
aio::task<std::string> fetch(std::string url) {
  try {
    co_await aio::sleep(url == "url2" ? 500ms : 1s);
  } catch (const aio::cancelled_error&) {
    std::printf("  t=%.1f %s cancelled\n", now(), url.c_str());
    throw;
  }
  if (url == "url2") throw std::runtime_error("could not fetch " + url);
  co_return "Data from " + url;
}
// [/fetch]

// [gather]
aio::task<void> first_error_wins() {
  std::vector<aio::task<std::string>> tasks;
  for (std::string url : {"url1", "url2", "url3"}) tasks.push_back(fetch(url));
  try {
    auto all = aio::gather(std::move(tasks));
    co_await std::move(all);
  } catch (const std::runtime_error& e) {
    std::printf("  t=%.1f caught: %s\n", now(), e.what());
  }
}
// [/gather]

// [settled]
aio::task<void> every_outcome() {
  std::vector<aio::task<std::string>> tasks;
  for (std::string url : {"url1", "url2", "url3"}) tasks.push_back(fetch(url));
  auto all = aio::gather_settled(std::move(tasks));
  std::vector<aio::outcome<std::string>> outcomes = co_await std::move(all);
  for (auto& o : outcomes) {
    if (o.has_value()) {
      std::printf("  t=%.1f value: %s\n", now(), o.value().c_str());
    } else {
      try {
        std::rethrow_exception(o.exception());
      } catch (const std::exception& e) {
        std::printf("  t=%.1f error: %s\n", now(), e.what());
      }
    }
  }
}
// [/settled]

int main() {
  std::printf("gather:\n");
  aio::run(first_error_wins(), aio::virtual_time);
  std::printf("gather_settled:\n");
  aio::run(every_outcome(), aio::virtual_time);
}
