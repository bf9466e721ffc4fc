// docs/reference/event_loop.md: running a loop, time, callbacks, deadlocks.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

// [callbacks]
aio::task<void> callbacks() {
  aio::event_loop& loop = aio::get_running_loop();
  loop.call_later(2s, [] { std::printf("%lld ms: call_later(2s)\n", ms()); });
  loop.call_at(aio::time_point{1s}, [] { std::printf("%lld ms: call_at(1s)\n", ms()); });
  aio::callback_handle h = loop.call_later(1500ms, [] { std::puts("never printed"); });
  loop.call_soon([] { std::printf("%lld ms: call_soon 1\n", ms()); });
  loop.call_soon([] { std::printf("%lld ms: call_soon 2\n", ms()); });
  h.cancel();
  std::printf("%lld ms: cancelled = %d, when = %lld ms\n", ms(), h.cancelled(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         h.when().time_since_epoch()).count()));
  co_await aio::sleep(3s);
  std::printf("%lld ms: done\n", ms());
}
// [/callbacks]

// [explicit_loop]
aio::task<int> add(int a, int b) {
  co_await aio::sleep(1s);
  co_return a + b;
}

void explicit_loop() {
  aio::event_loop loop{aio::virtual_time};  // asyncio.new_event_loop(), on virtual time
  int v = loop.run_until_complete(add(1, 2));
  std::printf("run_until_complete: %d at %lld ms\n", v,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         loop.time().time_since_epoch()).count()));
  aio::future<int> f = loop.create_task(add(3, 4), "adder");
  std::printf("pending_tasks = %zu, name = %s\n", loop.pending_tasks(), f.get_name().c_str());
  std::printf("run_until_complete(future): %d\n", loop.run_until_complete(f));
  loop.close();
}
// [/explicit_loop]

// [forever]
void forever() {
  aio::event_loop loop{aio::virtual_time};
  int ticks = 0;
  loop.call_soon([&] { ++ticks; });
  loop.call_later(5s, [&] {
    std::printf("stopping after %d tick(s)\n", ticks);
    loop.stop();
  });
  loop.run_forever();  // returns after the iteration in which stop() was called
  std::printf("is_running = %d\n", loop.is_running());
}
// [/forever]

// [no_loop]
void no_loop() {
  std::printf("running_loop() = %p\n", static_cast<void*>(aio::running_loop()));
  try {
    aio::get_running_loop();
  } catch (const aio::invalid_state_error&) {
    std::puts("get_running_loop(): invalid_state_error outside a loop");
  }
}
// [/no_loop]

// [nested_run]
aio::task<void> nested() {
  try {
    aio::run(add(1, 1));  // aio::run inside a running loop: await instead
  } catch (const aio::invalid_state_error&) {
    std::puts("aio::run inside a loop: invalid_state_error");
  }
  co_return;
}
// [/nested_run]

// [left_pending]
aio::task<void> sleeper() {
  try {
    co_await aio::sleep(1h);
  } catch (const aio::cancelled_error&) {
    std::puts("sleeper: cancelled by aio::run on the way out");
    throw;
  }
}

aio::task<void> leaves_a_task() {
  auto f = aio::create_task(sleeper());
  co_await aio::sleep(1s);
  std::puts("leaves_a_task: returns");
}
// [/left_pending]

int main() {
  aio::run(callbacks(), aio::virtual_time);
  explicit_loop();
  forever();
  no_loop();
  aio::run(nested(), aio::virtual_time);
  aio::run(leaves_a_task(), aio::virtual_time);
}
