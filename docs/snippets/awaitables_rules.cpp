// docs/guide/05-awaitables.md: the rules of the three awaitables that C++
// adds to Python's: a task is awaited once, a future by anyone, and a
// cancellation is not a std::exception.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

aio::task<int> answer() { co_return 42; }

// [once]
aio::task<void> task_is_awaited_once() {
  aio::task<int> t = answer();
  int first = co_await t;  // co_await on an lvalue consumes the task
  std::printf("first await: %d\n", first);
  try {
    co_await t;  // nothing left to run
  } catch (const aio::invalid_state_error&) {
    std::printf("second await: invalid_state_error\n");
  }
}
// [/once]

// [future]
aio::task<void> reader(std::string name, aio::future<int> f) {
  int v = co_await f;  // every holder of the handle may await it
  std::printf("%s got %d\n", name.c_str(), v);
}

aio::task<void> future_has_many_readers() {
  aio::future<int> f;
  try {
    (void)f.result();
  } catch (const aio::invalid_state_error&) {
    std::printf("result() while pending: invalid_state_error\n");
  }
  auto r1 = reader("r1", f);
  auto r2 = reader("r2", f);
  auto both = aio::gather(std::move(r1), std::move(r2));
  f.set_result(7);  // before anyone waits: they find it done
  co_await std::move(both);
}
// [/future]

// [cancelled]
aio::task<void> cancelled_is_not_an_exception() {
  aio::future<int> f;
  f.cancel();
  try {
    try {
      co_await f;
    } catch (const std::exception&) {
      std::printf("never printed: cancelled_error is not a std::exception\n");
    }
  } catch (const aio::cancelled_error&) {
    std::printf("cancelled_error went past catch (const std::exception&)\n");
  }
}
// [/cancelled]

int main() {
  aio::run(task_is_awaited_once());
  aio::run(future_has_many_readers());
  aio::run(cancelled_is_not_an_exception());
}
