// docs/reference/task.md: aio::task<T> is lazy, awaited once, and awaiting it
// is not a suspension point.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <string>

// [define]
aio::task<int> answer() {
  std::puts("answer: body runs");
  co_return 42;
}

aio::task<std::string&> longest(std::string& a, std::string& b) {  // task<T&> returns a reference
  co_return a.size() >= b.size() ? a : b;
}
// [/define]

// [lazy]
aio::task<void> lazy() {
  aio::task<int> t = answer();  // builds the frame; nothing printed yet
  std::puts("lazy: task made");
  int v = co_await std::move(t);  // the body runs now, inside this task
  std::printf("lazy: got %d\n", v);
}
// [/lazy]

// [once]
aio::task<void> once() {
  aio::task<int> t = answer();
  int v = co_await t;  // awaiting an lvalue consumes it, like a coroutine object
  std::printf("once: %d, valid() = %d\n", v, t.valid());
  try {
    co_await t;
  } catch (const aio::invalid_state_error& e) {
    std::printf("once: invalid_state_error: %.40s...\n", e.what());
  }
}
// [/once]

// [reference]
aio::task<void> reference() {
  std::string a = "short", b = "much longer";
  std::string& r = co_await longest(a, b);
  r += "!";
  std::printf("reference: b = %s\n", b.c_str());
}
// [/reference]

// [not_a_suspension_point]
aio::task<void> other() {
  std::puts("other: runs");
  co_return;
}

aio::task<int> no_await() { co_return 1; }

aio::task<void> inline_await() {
  auto f = aio::create_task(other());  // starts at the next iteration
  f.cancel();                          // a cancel request for... nothing: `other` never starts
  auto g = aio::create_task(other());
  int v = co_await no_await();  // does not yield: `other` has not run yet
  std::printf("inline_await: %d, g.done() = %d\n", v, g.done());
  co_await aio::yield();  // a real suspension point: now `other` runs
  std::printf("inline_await: g.done() = %d, f.cancelled() = %d\n", g.done(), f.cancelled());
}
// [/not_a_suspension_point]

int main() {
  aio::run(lazy());
  aio::run(once());
  aio::run(reference());
  aio::run(inline_await());
}
