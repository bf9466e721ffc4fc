// docs/guide/02-sync-vs-async.md: `co_await` alone does not make code
// concurrent. The same three fetches awaited one after the other, then
// gathered, on a virtual-time loop (sleeps jump, so the times are exact).

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

/// The loop's clock in seconds (a virtual-time loop starts at 0).
double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

aio::task<std::string> fetch_data(std::string url) {
  std::printf("  t=%.1f start %s\n", now(), url.c_str());
  co_await aio::sleep(1s);
  co_return "Data from " + url;
}

// [one_after_another]
aio::task<void> one_after_another() {
  std::string a = co_await fetch_data("url1");  // waits a second...
  std::string b = co_await fetch_data("url2");  // ...then starts the next
  std::string c = co_await fetch_data("url3");
  std::printf("  t=%.1f done: %s, %s, %s\n", now(), a.c_str(), b.c_str(), c.c_str());
}
// [/one_after_another]

// [all_at_once]
aio::task<void> all_at_once() {
  auto all = aio::gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"));
  auto [a, b, c] = co_await std::move(all);
  std::printf("  t=%.1f done: %s, %s, %s\n", now(), a.c_str(), b.c_str(), c.c_str());
}
// [/all_at_once]

int main() {
  std::printf("awaited one after another:\n");
  aio::run(one_after_another(), aio::virtual_time);
  std::printf("gathered:\n");
  aio::run(all_at_once(), aio::virtual_time);
}
