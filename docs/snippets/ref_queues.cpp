// docs/reference/queues.md: queue, priority_queue, lifo_queue, join, shutdown.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

using namespace std::chrono_literals;

// [producer_consumer]
aio::task<void> producer(aio::queue<int>& q) {
  for (int i = 0; i < 4; ++i) {
    co_await q.put(i);  // waits while the queue is full
    std::printf("%lld ms: put %d (qsize %zu)\n", ms(), i, q.qsize());
  }
}

aio::task<void> consumer(aio::queue<int>& q) {
  for (;;) {
    int item = co_await q.get();
    co_await aio::sleep(1s);  // process it
    std::printf("%lld ms: done %d\n", ms(), item);
    q.task_done();
  }
}

aio::task<void> producer_consumer() {
  aio::queue<int> q{2};  // maxsize 2
  auto c = aio::create_task(consumer(q));
  co_await producer(q);
  co_await q.join();  // every item put has been task_done()
  std::printf("%lld ms: all processed\n", ms());
  c.cancel();
  co_await aio::gather_settled(c);
}
// [/producer_consumer]

// [orders]
aio::task<void> orders() {
  aio::priority_queue<std::pair<int, std::string>> pq;
  pq.put_nowait({3, "low"});
  pq.put_nowait({1, "high"});
  pq.put_nowait({2, "mid"});
  while (auto item = pq.try_get()) std::printf("priority %d: %s\n", item->first, item->second.c_str());

  aio::lifo_queue<int> stack;
  for (int i = 1; i <= 3; ++i) stack.put_nowait(i);
  while (!stack.empty()) std::printf("lifo: %d\n", stack.get_nowait());
  co_return;
}
// [/orders]

// [nowait]
aio::task<void> nowait() {
  aio::queue<int> q{1};
  q.put_nowait(1);
  try {
    q.put_nowait(2);
  } catch (const aio::queue_full& e) {
    std::printf("%s\n", e.what());
  }
  std::printf("try_put = %d, full() = %d\n", q.try_put(2), q.full());
  (void)q.get_nowait();
  try {
    (void)q.get_nowait();
  } catch (const aio::queue_empty& e) {
    std::printf("%s\n", e.what());
  }
  co_return;
}
// [/nowait]

// [shutdown]
aio::task<void> drain(aio::queue<std::string>& q) {
  try {
    for (;;) std::printf("%lld ms: got %s\n", ms(), (co_await q.get()).c_str());
  } catch (const aio::queue_shut_down&) {
    std::printf("%lld ms: queue_shut_down\n", ms());
  }
}

aio::task<void> shutdowns() {
  aio::queue<std::string> q;
  q.put_nowait("a");
  q.put_nowait("b");
  auto d = aio::create_task(drain(q));
  co_await aio::sleep(1s);
  q.shutdown();  // getters get what is left, then queue_shut_down
  co_await d;
}
// [/shutdown]

int main() {
  aio::run(producer_consumer(), aio::virtual_time);
  aio::run(orders(), aio::virtual_time);
  aio::run(nowait(), aio::virtual_time);
  aio::run(shutdowns(), aio::virtual_time);
}
