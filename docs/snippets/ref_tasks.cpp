// docs/reference/tasks.md: create_task, gather, gather_settled, when_any,
// as_completed, sleep, yield, shield.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/generator.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::task<int> after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

// [create_task]
aio::task<void> say(std::string what) {
  std::printf("%lld ms: %s\n", ms(), what.c_str());
  co_return;
}

aio::task<void> create_tasks() {
  auto a = aio::create_task(say("a"));  // starts at the next iteration
  auto b = aio::create_task(say("b"));  // ... after a (FIFO)
  std::puts("created");
  co_await aio::sleep(0s);  // yields once: a and b run
  std::printf("a.done() = %d, b.done() = %d\n", a.done(), b.done());
}
// [/create_task]

// [gather]
aio::task<void> nothing() { co_return; }

aio::task<void> gathers() {
  auto [x, y, none] = co_await aio::gather(after(2s, 1), after(1s, 2), nothing());
  std::printf("%lld ms: tuple %d %d (void gives std::monostate)\n", ms(), x, y);
  (void)none;
  std::vector<aio::task<int>> many;
  for (int i = 0; i < 3; ++i) many.push_back(after(1s, i * 10));
  std::vector<int> values = co_await aio::gather(std::move(many));
  std::printf("%lld ms: vector %d %d %d\n", ms(), values[0], values[1], values[2]);
}
// [/gather]

// [gather_failure]
aio::task<int> fail_after(aio::duration d) {
  co_await aio::sleep(d);
  throw std::runtime_error("child failed");
}

aio::task<int> slow_child() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: slow_child cancelled by gather\n", ms());
    throw;
  }
  co_return 0;
}

aio::task<void> gather_failure() {
  try {
    co_await aio::gather(slow_child(), fail_after(1s));
  } catch (const std::runtime_error& e) {
    std::printf("%lld ms: gather threw: %s\n", ms(), e.what());
  }
}
// [/gather_failure]

// [gather_settled]
aio::task<void> settled() {
  auto [ok, bad] = co_await aio::gather_settled(after(1s, 5), fail_after(2s));
  std::printf("%lld ms: ok %d, bad.has_exception() = %d\n", ms(), ok.value(), bad.has_exception());
}
// [/gather_settled]

// [when_any]
aio::task<std::string> named(aio::duration d, std::string s) {
  co_await aio::sleep(d);
  co_return s;
}

aio::task<void> any() {
  auto r = co_await aio::when_any(after(3s, 1), after(1s, 2));
  std::printf("%lld ms: child %zu won with %d\n", ms(), r.index, r.value);
  auto m = co_await aio::when_any(after(2s, 7), named(1s, "text"));  // differing types: a std::variant
  std::printf("%lld ms: child %zu won with %s\n", ms(), m.index, std::get<1>(m.value).c_str());
}
// [/when_any]

// [as_completed]
aio::task<void> completed() {
  std::vector<aio::task<int>> children;
  children.push_back(after(3s, 3));
  children.push_back(after(1s, 1));
  children.push_back(after(2s, 2));
  auto gen = aio::as_completed(std::move(children));
  while (auto v = co_await gen.next()) std::printf("%lld ms: %d\n", ms(), *v);
}
// [/as_completed]

// [yield]
aio::task<void> spinner(std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    std::printf("%s%d ", name.c_str(), i);
    co_await aio::yield();  // asyncio.sleep(0): let the others run
  }
}

aio::task<void> yields() {
  co_await aio::gather(spinner("a", 3), spinner("b", 3));
  std::puts("");
}
// [/yield]

// [shield]
aio::task<int> important() {
  co_await aio::sleep(2s);
  std::printf("%lld ms: important finished anyway\n", ms());
  co_return 42;
}

aio::task<void> impatient(aio::future<int> f) {
  try {
    co_await aio::shield(f);
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: impatient cancelled; f.done() = %d\n", ms(), f.done());
    throw;
  }
}

aio::task<void> shields() {
  aio::future<int> f = aio::create_task(important());
  auto waiter = aio::create_task(impatient(f));
  co_await aio::sleep(1s);
  waiter.cancel();
  int v = co_await f;
  std::printf("%lld ms: f = %d\n", ms(), v);
}
// [/shield]

// [sleep_until]
aio::task<void> sleeps() {
  co_await aio::sleep(1500ms);
  co_await aio::sleep_until(aio::time_point{5s});  // an absolute loop time
  std::printf("%lld ms: woke\n", ms());
}
// [/sleep_until]

int main() {
  aio::run(create_tasks(), aio::virtual_time);
  aio::run(gathers(), aio::virtual_time);
  aio::run(gather_failure(), aio::virtual_time);
  aio::run(settled(), aio::virtual_time);
  aio::run(any(), aio::virtual_time);
  aio::run(completed(), aio::virtual_time);
  aio::run(yields(), aio::virtual_time);
  aio::run(shields(), aio::virtual_time);
  aio::run(sleeps(), aio::virtual_time);
}
