// docs/reference/future.md: aio::future<T> and aio::outcome<T>.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

// [basics]
aio::task<void> waiter(std::string name, aio::future<int> f) {
  int v = co_await f;  // each awaiter gets a copy of the value
  std::printf("%lld ms: %s got %d\n", ms(), name.c_str(), v);
}

aio::task<void> basics() {
  aio::future<int> f = aio::get_running_loop().create_future<int>();
  auto a = aio::create_task(waiter("a", f));
  auto b = aio::create_task(waiter("b", f));
  try {
    (void)f.result();
  } catch (const aio::invalid_state_error&) {
    std::puts("result() while pending: invalid_state_error");
  }
  aio::get_running_loop().call_later(1s, [f]() mutable { f.set_result(7); });
  co_await aio::gather(a, b);
  std::printf("done = %d, result = %d\n", f.done(), f.result());
}
// [/basics]

// [errors]
aio::task<void> errors() {
  aio::future<int> failed;
  failed.set_exception(std::runtime_error("boom"));
  try {
    co_await failed;  // a done future: no suspension, the exception is rethrown
  } catch (const std::runtime_error& e) {
    std::printf("await: %s\n", e.what());
  }
  aio::future<int> cancelled;
  bool first = cancelled.cancel();
  bool second = cancelled.cancel();  // already done: false
  std::printf("cancel() = %d, again = %d, cancelled() = %d\n", first, second, cancelled.cancelled());
  try {
    (void)cancelled.exception();
  } catch (const aio::cancelled_error&) {
    std::puts("exception() of a cancelled future: cancelled_error");
  }
  try {
    failed.set_result(1);
  } catch (const aio::invalid_state_error&) {
    std::puts("set_result on a done future: invalid_state_error");
  }
}
// [/errors]

// [callbacks]
aio::task<void> callbacks() {
  aio::future<std::string> f;
  f.add_done_callback([](aio::future<std::string> done) {
    std::printf("%lld ms: callback sees %s\n", ms(), done.result().c_str());
  });
  aio::get_running_loop().call_later(2s, [f]() mutable { f.set_result("ready"); });
  co_await f;
  std::printf("%lld ms: awaiter resumed\n", ms());
}
// [/callbacks]

// [task_future]
aio::task<int> slow() {
  co_await aio::sleep(1h);
  co_return 1;
}

aio::task<void> task_future() {
  aio::future<int> t = aio::create_task(slow(), "slow-one");
  std::printf("name = %s\n", t.get_name().c_str());
  co_await aio::sleep(1s);
  t.cancel();
  std::printf("cancelling() = %u, done() = %d\n", t.cancelling(), t.done());
  try {
    co_await t;
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: cancelled() = %d\n", ms(), t.cancelled());
  }
}
// [/task_future]

// [outcome]
aio::task<int> slow_free() { co_return 5; }

aio::task<int> fails() {
  throw std::runtime_error("bad input");
  co_return 0;
}

aio::task<void> outcomes() {
  auto [good, bad] = co_await aio::gather_settled(slow_free(), fails());
  std::printf("good: has_value = %d, value = %d\n", good.has_value(), good.value());
  std::printf("bad: has_exception = %d\n", bad.has_exception());
  try {
    bad.value();
  } catch (const std::runtime_error& e) {
    std::printf("bad.value() rethrows: %s\n", e.what());
  }
}
// [/outcome]

int main() {
  aio::run(basics(), aio::virtual_time);
  aio::run(errors(), aio::virtual_time);
  aio::run(callbacks(), aio::virtual_time);
  aio::run(task_future(), aio::virtual_time);
  aio::run(outcomes(), aio::virtual_time);
}
