// 02 — Coroutines (asyncio guide, "Core Concepts" 1).
//
// Python's `async def` becomes a function returning aio::task<T>; `await`
// becomes co_await, and `return` inside it becomes co_return.

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// [my_coroutine]
aio::task<std::string> my_coroutine() {
  std::printf("Hello\n");
  co_await aio::sleep(1s);
  std::printf("World\n");
  co_return "Done";
}
// [/my_coroutine]

// [running]
// `result = await my_coroutine()` is only legal inside another coroutine, and
// C++'s main cannot be one, so the first way of running it needs a caller.
aio::task<void> caller() {
  // Awaiting a task runs it right here, inside the caller, like `await coro()`.
  [[maybe_unused]] std::string result = co_await my_coroutine();
}

int main() {
  // Calling my_coroutine() alone would run nothing: a task is lazy, and a
  // discarded one is a compiler warning ([[nodiscard]]), the counterpart of
  // Python's "coroutine ... was never awaited".

  // Running a coroutine: awaited from another coroutine...
  aio::run(caller());

  // ...or handed to aio::run from ordinary code (a fresh event loop, run until
  // the task finishes, then closed); aio::run returns the task's value.
  [[maybe_unused]] std::string result = aio::run(my_coroutine());
}
// [/running]
