// docs/reference/timeouts.md: wait_for, wait_until, timeout_scope.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// [wait_for]
aio::task<std::string> fetch(aio::duration d) {
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: fetch sees cancelled_error\n", ms());
    throw;
  }
  co_return "data";
}

aio::task<void> wait_fors() {
  std::string fast = co_await aio::wait_for(fetch(1s), 2s);
  std::printf("%lld ms: got %s\n", ms(), fast.c_str());
  try {
    co_await aio::wait_for(fetch(5s), 2s);
  } catch (const aio::timeout_error&) {
    std::printf("%lld ms: timeout_error\n", ms());
  }
}
// [/wait_for]

// [wait_for_future]
aio::task<void> wait_for_future() {
  aio::future<std::string> f = aio::create_task(fetch(5s));
  try {
    co_await aio::wait_for(f, 1s);
  } catch (const aio::timeout_error&) {
    std::printf("%lld ms: timeout_error, f.cancelled() = %d\n", ms(), f.cancelled());
  }
}
// [/wait_for_future]

// [scope]
aio::task<void> steps(aio::timeout_scope& scope) {
  co_await aio::sleep(1s);
  // Making progress: push the deadline out by two seconds from now.
  scope.reschedule(aio::get_running_loop().time() + 2s);
  co_await aio::sleep(2500ms);
  std::puts("steps: not reached");
}

aio::task<void> scopes() {
  aio::timeout_scope scope{2s};  // `async with asyncio.timeout(2) as scope:`
  try {
    co_await scope.run(steps(scope));
  } catch (const aio::timeout_error&) {
    std::printf("%lld ms: timeout_error, expired() = %d\n", ms(), scope.expired());
  }
  auto none = aio::timeout_scope::at(std::nullopt);  // no deadline (asyncio.timeout(None))
  co_await none.run(fetch(10s));
  std::printf("%lld ms: no deadline, expired() = %d\n", ms(), none.expired());
}
// [/scope]

// [wait_until]
aio::task<void> wait_untils() {
  try {
    co_await aio::wait_until(fetch(10s), aio::time_point{3s});
  } catch (const aio::timeout_error&) {
    std::printf("%lld ms: timeout_error at the absolute deadline\n", ms());
  }
}
// [/wait_until]

// [outer_cancel]
aio::task<void> guarded() {
  try {
    co_await aio::wait_for(fetch(10s), 5s);
  } catch (const aio::timeout_error&) {
    std::puts("not reached: the cancel came from outside");
  }
}

aio::task<void> outer_cancel() {
  auto f = aio::create_task(guarded());
  co_await aio::sleep(1s);
  f.cancel();
  try {
    co_await f;
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: cancelled_error, not timeout_error\n", ms());
  }
}
// [/outer_cancel]

// [same_iteration]
aio::task<int> exactly(aio::duration d) {
  co_await aio::sleep(d);
  co_return 1;
}

aio::task<void> same_iteration() {
  int v = co_await aio::wait_for(exactly(2s), 2s);  // done when the deadline hits: the value wins
  std::printf("%lld ms: got %d\n", ms(), v);
}
// [/same_iteration]

int main() {
  aio::run(wait_fors(), aio::virtual_time);
  aio::run(wait_for_future(), aio::virtual_time);
  aio::run(scopes(), aio::virtual_time);
  aio::run(wait_untils(), aio::virtual_time);
  aio::run(outer_cancel(), aio::virtual_time);
  aio::run(same_iteration(), aio::virtual_time);
}
