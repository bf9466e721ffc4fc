// docs/guide/09-semaphores.md: the guide's ten workers, three at a time, on a
// virtual-time loop (sleeps jump, so the times printed are exact), and what
// happens to a permit when its holder fails.

#include <aio/event_loop.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

/// The loop's clock in seconds (a virtual-time loop starts at 0).
double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

aio::task<void> worker(aio::semaphore& semaphore, int task_id) {
  auto permit = co_await semaphore.acquire();
  std::printf("t=%.1f  Task %d started\n", now(), task_id);
  co_await aio::sleep(1s);
}

aio::task<void> ten_workers() {
  aio::semaphore semaphore{3};
  std::vector<aio::task<void>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(worker(semaphore, i));
  co_await aio::gather(std::move(tasks));
  std::printf("t=%.1f  all done\n", now());
}

// [failing_holder]
aio::task<void> fails_while_holding(aio::semaphore& semaphore) {
  auto permit = co_await semaphore.acquire();
  co_await aio::sleep(1s);
  throw std::runtime_error("worker failed");
}  // the permit goes back as the exception leaves the frame

aio::task<void> permit_comes_back() {
  aio::semaphore semaphore{1};
  try {
    co_await fails_while_holding(semaphore);
  } catch (const std::runtime_error& e) {
    std::printf("t=%.1f  %s; permits free again: %s\n", now(), e.what(), semaphore.locked() ? "no" : "yes");
  }
}
// [/failing_holder]

int main() {
  aio::run(ten_workers(), aio::virtual_time);
  aio::run(permit_comes_back(), aio::virtual_time);
}
