// docs/reference/locks.md: lock, event, condition, semaphore, bounded_semaphore, barrier.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

using namespace std::chrono_literals;

// [lock]
aio::task<void> critical(aio::lock& l, std::string name) {
  auto guard = co_await l.acquire();  // `async with lock:`
  std::printf("%lld ms: %s holds the lock\n", ms(), name.c_str());
  co_await aio::sleep(1s);
}  // guard released here: the next waiter (FIFO) gets the lock

aio::task<void> locks() {
  aio::lock l;
  co_await aio::gather(critical(l, "a"), critical(l, "b"), critical(l, "c"));
  auto g = l.try_acquire();
  std::printf("try_acquire: owns_lock() = %d, locked() = %d\n", g.owns_lock(), l.locked());
}
// [/lock]

// [event]
aio::task<void> wait_for_go(aio::event& go, std::string name) {
  co_await go.wait();
  std::printf("%lld ms: %s goes\n", ms(), name.c_str());
}

aio::task<void> events() {
  aio::event go;
  aio::get_running_loop().call_later(2s, [&go] { go.set(); });
  co_await aio::gather(wait_for_go(go, "x"), wait_for_go(go, "y"));
  std::printf("is_set() = %d\n", go.is_set());
}
// [/event]

// [condition]
aio::task<void> consumer(aio::condition& c, int& items) {
  auto guard = co_await c.acquire();
  bool ok = co_await c.wait_for([&items] { return items > 0; });
  std::printf("%lld ms: consumer sees %d item(s), predicate %d\n", ms(), items, ok);
}

aio::task<void> producer(aio::condition& c, int& items) {
  co_await aio::sleep(1s);
  auto guard = co_await c.acquire();
  items = 3;
  c.notify_all();
}

aio::task<void> conditions() {
  aio::condition c;
  int items = 0;
  co_await aio::gather(consumer(c, items), producer(c, items));
}
// [/condition]

// [semaphore]
aio::task<void> limited(aio::semaphore& sem, int i) {
  auto permit = co_await sem.acquire();  // `async with sem:`
  std::printf("%lld ms: job %d starts (%td permit(s) left)\n", ms(), i, sem.value());
  co_await aio::sleep(1s);
}

aio::task<void> semaphores() {
  aio::semaphore sem{2};
  co_await aio::gather(limited(sem, 1), limited(sem, 2), limited(sem, 3));
  aio::bounded_semaphore bounded{1};
  try {
    bounded.release();  // more releases than acquires
  } catch (const aio::value_error&) {
    std::printf("bounded_semaphore: value_error\n");
  }
}
// [/semaphore]

// [barrier]
aio::task<void> arrive(aio::barrier& b, aio::duration d, std::string name) {
  co_await aio::sleep(d);
  std::size_t index = co_await b.wait();
  std::printf("%lld ms: %s passes (arrival index %zu)\n", ms(), name.c_str(), index);
}

aio::task<void> barriers() {
  aio::barrier b{3};
  co_await aio::gather(arrive(b, 1s, "p"), arrive(b, 3s, "q"), arrive(b, 2s, "r"));
}
// [/barrier]

int main() {
  aio::run(locks(), aio::virtual_time);
  aio::run(events(), aio::virtual_time);
  aio::run(conditions(), aio::virtual_time);
  aio::run(semaphores(), aio::virtual_time);
  aio::run(barriers(), aio::virtual_time);
}
