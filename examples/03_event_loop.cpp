// 03 — The event loop (asyncio guide, "Core Concepts" 2).
//
// Three tasks sleep concurrently on one thread; the loop resumes each when its
// timer is due, so the whole run takes as long as the longest (3 s), not 6 s.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// Python's print(list) shows each string quoted: ['a', 'b'].
std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "'" : ", '") + items[i] + "'";
  return out + "]";
}

// [task]
// Parameters by value: the task outlives the call that created it (it starts
// at the loop's next iteration), so it must own what it uses.
aio::task<std::string> task(std::string name, std::chrono::seconds delay) {
  std::printf("Task %s starting\n", name.c_str());
  co_await aio::sleep(delay);
  std::printf("Task %s completed\n", name.c_str());
  co_return "Result from " + name;
}
// [/task]

// [main]
aio::task<void> async_main() {
  // create_task schedules each task to start at the next loop iteration and
  // returns an aio::future<std::string> (Python's Task object). They start in
  // the order they were created, once async_main suspends below.
  aio::future<std::string> task1 = aio::create_task(task("A", 2s));
  aio::future<std::string> task2 = aio::create_task(task("B", 1s));
  aio::future<std::string> task3 = aio::create_task(task("C", 3s));

  // Waits for all three; the results keep the argument order, not the order
  // in which the tasks finished.
  auto all_three = aio::gather(task1, task2, task3);
  auto [result1, result2, result3] = co_await std::move(all_three);
  std::printf("All tasks completed: %s\n", py_list({result1, result2, result3}).c_str());
}

int main() {
  aio::run(async_main());
}
// [/main]
