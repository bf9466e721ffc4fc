// 16 — The guide's first example ("Synchronous vs Asynchronous"), with a task
// group (asyncio.TaskGroup, Python 3.11) instead of gather.
//
// Python:
//     async with asyncio.TaskGroup() as tg:
//         tasks = [tg.create_task(fetch_data(url)) for url in urls]
//     results = [t.result() for t in tasks]
//
// In C++ the block of the `async with` is a function, run by
// aio::with_task_group: whatever the block does — returns, throws, is
// cancelled — every task it started has finished when with_task_group
// returns. Then the second half: one fetch fails, the group cancels the
// others, and the error comes out of with_task_group.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/task_group.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using stopwatch = std::chrono::steady_clock;

// Python's print(list) shows each string quoted: ['a', 'b'].
std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "'" : ", '") + items[i] + "'";
  return out + "]";
}

aio::task<std::string> fetch_data(std::string url) {
  co_await aio::sleep(1s);
  co_return "Data from " + url;
}

// The body of the `async with`: starts one task per URL and hands their
// futures out; they are all done by the time with_task_group returns.
aio::task<std::vector<aio::future<std::string>>> fetch_all(aio::task_group& tg, std::vector<std::string> urls) {
  std::vector<aio::future<std::string>> tasks;
  for (const auto& url : urls) tasks.push_back(tg.create_task(fetch_data(url)));
  co_return tasks;
}

aio::task<std::string> fetch_or_fail(std::string url) {
  if (url == "url2") {
    co_await aio::sleep(500ms);
    throw std::runtime_error("could not fetch " + url);
  }
  try {
    co_await aio::sleep(1s);
  } catch (const aio::cancelled_error&) {
    std::printf("fetch %s cancelled\n", url.c_str());
    throw;
  }
  co_return "Data from " + url;
}

aio::task<void> fetch_all_or_fail(aio::task_group& tg, std::vector<std::string> urls) {
  for (const auto& url : urls) tg.create_task(fetch_or_fail(url));
  co_return;
}

aio::task<void> async_main() {
  auto start = stopwatch::now();
  // Named first: g++ 12 mishandles a braced temporary inside a co_await operand.
  std::vector<std::string> urls{"url1", "url2", "url3"};
  std::vector<aio::future<std::string>> tasks = co_await aio::with_task_group(fetch_all, urls);
  std::vector<std::string> results;
  for (auto& t : tasks) results.push_back(t.result());
  std::chrono::duration<double> taken = stopwatch::now() - start;
  std::printf("Time taken: %.3f seconds\n", taken.count());  // ~1 second
  std::printf("%s\n", py_list(results).c_str());

  // The first failure cancels the other tasks; a single error comes out as
  // itself (several would come out as an aio::exception_group).
  try {
    co_await aio::with_task_group(fetch_all_or_fail, urls);
  } catch (const std::runtime_error& e) {
    std::printf("Error: %s\n", e.what());
  }
}

int main() {
  aio::run(async_main());
}
