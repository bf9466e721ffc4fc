// 09 — Timeouts (asyncio guide, "Advanced Patterns" 2).
//
// A five-second operation given two seconds: wait_for cancels it at the
// deadline, waits for it to unwind, and throws aio::timeout_error.

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// [slow_operation]
aio::task<std::string> slow_operation() {
  co_await aio::sleep(5s);
  co_return "Result";
}
// [/slow_operation]

// [main]
aio::task<void> async_main() {
  try {
    // Time out after 2 seconds. wait_for returns a task as well; nothing runs
    // until it is awaited. (aio::timeout_scope is the counterpart of
    // `async with asyncio.timeout(2):`, for a deadline that can be moved.)
    auto limited = aio::wait_for(slow_operation(), 2s);
    std::string result = co_await std::move(limited);
    std::printf("%s\n", result.c_str());
  } catch (const aio::timeout_error&) {
    // timeout_error is a std::runtime_error; slow_operation itself saw an
    // aio::cancelled_error at its sleep, which wait_for turned into this.
    std::printf("Operation timed out\n");
  }
}

int main() {
  aio::run(async_main());
}
// [/main]
