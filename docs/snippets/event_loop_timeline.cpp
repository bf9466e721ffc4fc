// docs/guide/04-event-loop.md: what the loop does, step by step, on a
// virtual-time loop (sleeps jump, so the times printed are exact).

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

/// The loop's clock in seconds (a virtual-time loop starts at 0).
double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [timeline]
aio::task<std::string> task(std::string name, std::chrono::seconds delay) {
  std::printf("t=%.1f  Task %s starting\n", now(), name.c_str());
  co_await aio::sleep(delay);
  std::printf("t=%.1f  Task %s completed\n", now(), name.c_str());
  co_return "Result from " + name;
}

aio::task<void> timeline() {
  aio::future<std::string> a = aio::create_task(task("A", 2s));
  aio::future<std::string> b = aio::create_task(task("B", 1s));
  aio::future<std::string> c = aio::create_task(task("C", 3s));
  std::printf("t=%.1f  three tasks created, none started\n", now());
  auto all = aio::gather(a, b, c);
  co_await std::move(all);  // main suspends: now the loop starts A, B, C
  std::printf("t=%.1f  all done\n", now());
}
// [/timeline]

// [deadlock]
aio::task<void> waits_forever() {
  aio::future<int> nobody_sets_this;
  co_await nobody_sets_this;  // nothing else can ever happen
}

void deadlock() {
  try {
    aio::run(waits_forever(), aio::virtual_time);
  } catch (const aio::deadlock_error&) {
    std::printf("deadlock_error: the loop has nothing left that could finish the task\n");
  }
}
// [/deadlock]

int main() {
  aio::run(timeline(), aio::virtual_time);
  deadlock();
}
