// 10 — Cancellation (asyncio guide, "Advanced Patterns" 3).
//
// A ten-step job is cancelled after three seconds. The cancel is delivered as
// an aio::cancelled_error thrown from the co_await the task is suspended at.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// [long_running_task]
aio::task<std::string> long_running_task() {
  try {
    for (int i = 0; i < 10; ++i) {
      std::printf("Working... %d\n", i);
      co_await aio::sleep(1s);  // where the cancellation arrives
    }
    co_return "Completed";
  } catch (const aio::cancelled_error&) {
    // aio::cancelled_error deliberately does not derive from std::exception,
    // so a `catch (const std::exception&)` in the job cannot swallow it by
    // accident; like Python's CancelledError (a BaseException), it has to be
    // caught by name. Clean up here, then rethrow: a task that returns
    // normally instead counts as finished, not cancelled.
    std::printf("Task was cancelled\n");
    throw;
  }
}
// [/long_running_task]

// [main]
aio::task<void> async_main() {
  aio::future<std::string> task = aio::create_task(long_running_task());

  // Cancel after 3 seconds. cancel() only marks the task and queues its
  // wake-up; it unwinds at the next loop iteration.
  co_await aio::sleep(3s);
  task.cancel();

  try {
    co_await task;  // rethrows the task's cancelled_error once it has unwound
  } catch (const aio::cancelled_error&) {
    std::printf("Task cancelled successfully\n");
  }
}

int main() {
  aio::run(async_main());
}
// [/main]
