// docs/reference/generator.md: async_generator, next, for_each, aclose.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/generator.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

using namespace std::chrono_literals;

// [define]
aio::async_generator<int> ticks(int n) {  // `async def ticks(n): ... yield i`
  try {
    for (int i = 0; i < n; ++i) {
      co_await aio::sleep(1s);
      co_yield i;
    }
  } catch (...) {  // aclose() unwinds from the co_yield: cleanup may await
    std::printf("%lld ms: ticks cleans up\n", ms());
    throw;
  }
}
// [/define]

// [next]
aio::task<void> loop_next() {
  auto gen = ticks(3);
  while (auto i = co_await gen.next()) std::printf("%lld ms: tick %d\n", ms(), *i);  // `async for`
  std::printf("done() = %d\n", gen.done());
}
// [/next]

// [for_each]
aio::task<void> show(int i) {
  std::printf("%lld ms: for_each %d\n", ms(), i);
  if (i == 1) throw std::runtime_error("stop at 1");
  co_return;
}

aio::task<void> each() {
  try {
    co_await aio::for_each(ticks(5), show);  // f may return a task: it is awaited
  } catch (const std::runtime_error& e) {
    std::printf("%lld ms: %s (the generator was closed first)\n", ms(), e.what());
  }
}
// [/for_each]

// [aclose]
aio::task<void> early() {
  auto gen = ticks(10);
  auto first = co_await gen.next();
  std::printf("%lld ms: first %d\n", ms(), *first);
  co_await gen.aclose();
  std::printf("done() = %d\n", gen.done());
}
// [/aclose]

int main() {
  aio::run(loop_next(), aio::virtual_time);
  aio::run(each(), aio::virtual_time);
  aio::run(early(), aio::virtual_time);
}
