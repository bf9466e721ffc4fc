// docs/reference/cancellation.md: Task.cancel() and cancellation tokens.
#include <aio/cancellation.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// [task_cancel]
aio::task<void> worker() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: worker cleans up\n", ms());
    throw;  // rethrow: the task ends cancelled
  }
}

aio::task<void> never_started() {
  std::puts("not printed: cancelled before its first step");
  co_return;
}

aio::task<void> task_cancel() {
  auto w = aio::create_task(worker());
  auto n = aio::create_task(never_started());
  n.cancel();
  co_await aio::sleep(1s);
  w.cancel();
  co_await aio::gather_settled(w, n);
  std::printf("%lld ms: w.cancelled() = %d, n.cancelled() = %d, cancel again = %d\n", ms(), w.cancelled(),
              n.cancelled(), w.cancel());
}
// [/task_cancel]

// [swallow]
aio::task<std::string> stubborn() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    co_return "partial";  // swallowing the cancellation: the task completes normally
  }
  co_return "full";
}

aio::task<void> swallow() {
  auto f = aio::create_task(stubborn());
  co_await aio::sleep(1s);
  f.cancel();
  std::string v = co_await f;
  std::printf("%lld ms: %s, cancelled() = %d\n", ms(), v.c_str(), f.cancelled());
}
// [/swallow]

// [tokens]
aio::task<void> download(aio::cancellation_token token) {
  for (int chunk = 0;; ++chunk) {
    token.throw_if_cancellation_requested();  // a polling check, between awaits
    co_await aio::sleep(1s);
    std::printf("%lld ms: chunk %d\n", ms(), chunk);
  }
}

aio::task<void> tokens() {
  aio::cancellation_source source;
  aio::cancellation_registration reg{source.token(), [] { std::printf("%lld ms: callback runs\n", ms()); }};
  aio::get_running_loop().call_later(2500ms, [source]() mutable { source.cancel(); });
  try {
    co_await aio::with_cancellation(download(source.token()), source.token());
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: with_cancellation threw cancelled_error\n", ms());
  }
  std::printf("requested = %d, cancel() again = %d\n", source.cancellation_requested(), source.cancel());
  aio::cancellation_token none;
  std::printf("default token: can_be_cancelled() = %d\n", none.can_be_cancelled());
}
// [/tokens]

int main() {
  aio::run(task_cancel(), aio::virtual_time);
  aio::run(swallow(), aio::virtual_time);
  aio::run(tokens(), aio::virtual_time);
}
