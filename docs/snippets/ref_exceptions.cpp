// docs/reference/exceptions.md: the error types, and why cancelled_error is not
// a std::exception.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>

using namespace std::chrono_literals;

// [catch_all]
aio::task<void> careless() {
  try {
    co_await aio::sleep(10s);
  } catch (const std::exception& e) {  // does not catch aio::cancelled_error
    std::printf("careless: swallowed %s\n", e.what());
  }
  std::puts("careless: not reached when cancelled");
}

aio::task<void> main_task() {
  auto f = aio::create_task(careless());
  co_await aio::sleep(1s);
  f.cancel();
  try {
    co_await f;
  } catch (const aio::cancelled_error& e) {
    std::printf("main: %s\n", e.what());
  }
}
// [/catch_all]

// [messages]
aio::task<void> nap(aio::duration d) { co_await aio::sleep(d); }

aio::task<void> messages() {
  try {
    co_await aio::wait_for(nap(2s), 1s);
  } catch (const aio::timeout_error& e) {
    std::printf("%s\n", e.what());
  }
  aio::future<int> pending;
  try {
    (void)pending.result();
  } catch (const std::logic_error& e) {  // invalid_state_error is a std::logic_error
    std::printf("%s\n", e.what());
  }
}
// [/messages]

// [deadlock]
aio::task<void> wait_forever() {
  aio::future<void> never;  // nobody will ever set it
  co_await never;
}
// [/deadlock]

int main() {
  aio::run(main_task(), aio::virtual_time);
  aio::run(messages(), aio::virtual_time);
  // [deadlock_run]
  try {
    aio::run(wait_forever(), aio::virtual_time);
  } catch (const aio::deadlock_error& e) {
    std::puts("deadlock_error:");
    std::puts(e.what());
  }
  // [/deadlock_run]
}
