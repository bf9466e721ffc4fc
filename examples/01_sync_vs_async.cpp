// 01 — Synchronous vs Asynchronous (asyncio guide, "Understanding the Basics").
//
// Three one-second "downloads", first one after the other with a blocking
// sleep (~3 s), then concurrently with aio::gather (~1 s).

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using stopwatch = std::chrono::steady_clock;

// Python's print(list) shows each string quoted: ['a', 'b'].
std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "'" : ", '") + items[i] + "'";
  return out + "]";
}

void print_time_taken(stopwatch::time_point start) {
  std::chrono::duration<double> taken = stopwatch::now() - start;
  std::printf("Time taken: %.3f seconds\n", taken.count());
}

// --- The synchronous version: each call blocks the whole thread. ----------

// [sync]
std::string fetch_data_sync(const std::string& url) {
  std::this_thread::sleep_for(1s);  // stands in for a network round trip
  return "Data from " + url;
}

void sync_main() {
  auto start = stopwatch::now();
  [[maybe_unused]] std::string result1 = fetch_data_sync("url1");
  [[maybe_unused]] std::string result2 = fetch_data_sync("url2");
  [[maybe_unused]] std::string result3 = fetch_data_sync("url3");
  print_time_taken(start);  // ~3 seconds
}
// [/sync]

// --- The asynchronous version. ----------------------------------------------

// [async]
// `url` is taken by value on purpose. A task is lazy: calling fetch_data only
// creates its frame, and the body runs later, when the task is awaited or
// gathered. A `const std::string&` parameter would then refer to the temporary
// std::string built from "url1", which is gone by the time the body reads it.
aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);  // suspends this task only; the loop runs the others
  co_return "Data from " + url;
}

aio::task<void> async_main() {
  auto start = stopwatch::now();
  // Nothing has started yet: gather() receives three unstarted tasks and turns
  // each into a task of its own (in argument order) once it is awaited.
  auto all_three = aio::gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"));
  // Python's gather returns a list; the variadic aio::gather returns a
  // std::tuple, since each child could have its own type.
  auto [result1, result2, result3] = co_await std::move(all_three);
  print_time_taken(start);  // ~1 second
  std::printf("%s\n", py_list({result1, result2, result3}).c_str());
}
// [/async]

// [main]
int main() {
  sync_main();
  aio::run(async_main());  // asyncio.run(main())
}
// [/main]
