// 04 — Awaitables (asyncio guide, "Core Concepts" 3).
//
// The three things a coroutine can co_await: another coroutine (aio::task),
// a task scheduled on the loop (the aio::future that create_task returns), and
// a plain aio::future whose result someone sets.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <string>

// [awaitables]
// 1. A coroutine.
aio::task<std::string> coro() { co_return "coroutine"; }

// 2. The body of a task.
aio::task<std::string> task_func() { co_return "task"; }

aio::task<void> async_main() {
  // The guide builds the task and the future at module level. A task needs a
  // running loop to be scheduled on (Python raises "no running event loop"
  // there too, and aio::create_task throws invalid_state_error), so both are
  // made here, inside the running loop.
  aio::future<std::string> task = aio::create_task(task_func());
  // 3. A future: pending until someone calls set_result (or set_exception, or
  // cancel). It is a copyable handle; any number of coroutines may await it.
  aio::future<std::string> future;

  // All three are awaited the same way.
  std::string result1 = co_await coro();  // runs coro() inline, right now
  std::string result2 = co_await task;    // suspends until the task has run
  // The future has to be set first, or this await would never return (with
  // nothing left to wake it, aio::run reports a deadlock_error rather than hang).
  future.set_result("future result");
  std::string result3 = co_await future;  // already done: no suspension

  std::printf("%s %s %s\n", result1.c_str(), result2.c_str(), result3.c_str());
}
// [/awaitables]

int main() {
  aio::run(async_main());
}
