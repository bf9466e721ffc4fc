// docs/guide/10-timeouts.md: what a deadline does to the work it limits, on
// virtual time (the sleeps jump, so the times printed are exact).

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

/// The loop's clock in seconds: 0 when a virtual-time loop starts.
double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [cancelled_inside]
aio::task<std::string> slow_operation() {
  try {
    co_await aio::sleep(5s);
  } catch (const aio::cancelled_error&) {
    std::printf("  slow_operation: cancelled_error at its sleep, t=%.1f\n", now());
    throw;  // let the deadline turn it into timeout_error
  }
  co_return "Result";
}

aio::task<void> wait_for_demo() {
  try {
    auto limited = aio::wait_for(slow_operation(), 2s);
    std::string result = co_await std::move(limited);
    std::printf("  %s\n", result.c_str());
  } catch (const aio::timeout_error& e) {
    std::printf("  caller: timeout_error at t=%.1f (%s)\n", now(), e.what());
  }
}
// [/cancelled_inside]

// [on_time]
aio::task<std::string> exactly_two_seconds() {
  co_await aio::sleep(2s);
  co_return "made it";
}

aio::task<void> result_at_the_deadline() {
  auto limited = aio::wait_for(exactly_two_seconds(), 2s);
  std::string result = co_await std::move(limited);
  std::printf("  finished with the deadline: \"%s\" at t=%.1f\n", result.c_str(), now());
}
// [/on_time]

// [reschedule]
/// Reads `chunks` chunks; each one that arrives buys two more seconds.
aio::task<int> download(aio::timeout_scope& scope, int chunks, aio::duration per_chunk) {
  for (int i = 0; i < chunks; ++i) {
    co_await aio::sleep(per_chunk);
    scope.reschedule(aio::get_running_loop().time() + 2s);
  }
  co_return chunks;
}

aio::task<void> scope_demo(aio::duration per_chunk) {
  aio::timeout_scope scope{2s};  // like `async with asyncio.timeout(2) as scope:`
  try {
    auto work = scope.run(download(scope, 5, per_chunk));
    int chunks = co_await std::move(work);
    std::printf("  %d chunks by t=%.1f, expired: %s\n", chunks, now(), scope.expired() ? "yes" : "no");
  } catch (const aio::timeout_error&) {
    std::printf("  stalled: timeout_error at t=%.1f, expired: %s\n", now(), scope.expired() ? "yes" : "no");
  }
}
// [/reschedule]

// [outer_cancel]
aio::task<void> nap(aio::duration d) { co_await aio::sleep(d); }

aio::task<void> guarded_sleep() {
  try {
    auto limited = aio::wait_for(nap(5s), 2s);
    co_await std::move(limited);
  } catch (const aio::timeout_error&) {
    std::printf("  timeout_error (not printed: nobody's deadline expired)\n");
  }
}

aio::task<void> outer_cancel_demo() {
  aio::future<void> job = aio::create_task(guarded_sleep());
  co_await aio::sleep(1s);
  job.cancel();  // someone else cancels the task, before the 2 s deadline
  try {
    co_await job;
  } catch (const aio::cancelled_error&) {
    std::printf("  cancelled from outside at t=%.1f: cancelled_error passes through\n", now());
  }
}
// [/outer_cancel]

aio::task<void> run_one(const char* title, aio::task<void> demo) {
  std::printf("%s\n", title);
  co_await std::move(demo);
}

int main() {
  // Each demo on a fresh virtual-time loop, so each starts at t=0.
  aio::run(run_one("wait_for(slow_operation(), 2s):", wait_for_demo()), aio::virtual_time);
  aio::run(run_one("a result ready at the deadline is kept:", result_at_the_deadline()), aio::virtual_time);
  aio::run(run_one("timeout_scope, a chunk every second:", scope_demo(1s)), aio::virtual_time);
  aio::run(run_one("timeout_scope, a chunk every three seconds:", scope_demo(3s)), aio::virtual_time);
  aio::run(run_one("cancelled from outside:", outer_cancel_demo()), aio::virtual_time);
}
