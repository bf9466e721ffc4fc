// 08 — Semaphores for Rate Limiting (asyncio guide, "Advanced Patterns" 1).
//
// Ten workers, at most three at a time: four rounds of one second, so about
// 4 s in all.

#include <aio/event_loop.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

// [worker]
// The semaphore is shared by reference: it lives in async_main's frame, which
// outlives every worker because async_main awaits them all.
aio::task<void> worker(aio::semaphore& semaphore, int task_id) {
  // `async with semaphore:` — the permit is returned when it goes out of scope,
  // even if the body throws or the task is cancelled.
  auto permit = co_await semaphore.acquire();
  std::printf("Task %d started\n", task_id);
  co_await aio::sleep(1s);
  std::printf("Task %d completed\n", task_id);
}
// [/worker]

// [main]
aio::task<void> async_main() {
  // Limit to 3 concurrent tasks.
  aio::semaphore semaphore{3};
  std::vector<aio::task<void>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(worker(semaphore, i));
  // Waiters get permits first come, first served: the tasks start in order.
  co_await aio::gather(std::move(tasks));
}

int main() {
  aio::run(async_main());  // asyncio.run(main())
}
// [/main]
