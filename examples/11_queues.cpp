// 11 — Queues for Producer-Consumer (asyncio guide, "Advanced Patterns" 4).
//
// A producer of ten items, a queue of at most five, and two consumers that
// take a second per item.
//
// The guide's program never ends: its producer puts a single None sentinel
// for two consumers. The consumer that gets it stops; the other waits in
// queue.get() forever, so gather() never returns (asyncio cannot tell; aio::run
// would throw aio::deadlock_error instead). Two fixes, run one after the other:
//   1. one sentinel per consumer (std::nullopt plays None);
//   2. queue.shutdown() (Python 3.13): no sentinel at all — the consumers get
//      what is left, then aio::queue_shut_down. (Run at five times the speed,
//      to keep the tour short.)

#include <aio/event_loop.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// --- 1. A sentinel per consumer --------------------------------------------

// [producer]
aio::task<void> producer(aio::queue<std::optional<int>>& queue, int items, int consumers) {
  for (int item = 0; item < items; ++item) {
    co_await queue.put(item);  // waits while the queue holds five items
    std::printf("Produced: %d\n", item);
    co_await aio::sleep(500ms);
  }
  for (int i = 0; i < consumers; ++i) co_await queue.put(std::nullopt);  // one each
}
// [/producer]

// [consumer]
aio::task<void> consumer(aio::queue<std::optional<int>>& queue, std::string name) {
  while (true) {
    std::optional<int> item = co_await queue.get();
    if (!item) {
      queue.task_done();
      break;
    }
    std::printf("Consumer %s processed: %d\n", name.c_str(), *item);
    co_await aio::sleep(1s);
    queue.task_done();
  }
}
// [/consumer]

// [with_sentinels]
aio::task<void> with_sentinels() {
  aio::queue<std::optional<int>> queue{5};  // maxsize=5
  co_await aio::gather(producer(queue, 10, 2), consumer(queue, "A"), consumer(queue, "B"));
}
// [/with_sentinels]

// --- 2. shutdown() -------------------------------------------------------------

// [shutdown]
aio::task<void> producer_then_shutdown(aio::queue<int>& queue, int items) {
  for (int item = 0; item < items; ++item) {
    co_await queue.put(item);
    std::printf("Produced: %d\n", item);
    co_await aio::sleep(100ms);
  }
  queue.shutdown();  // consumers drain what is left, then get queue_shut_down
}

aio::task<void> consumer_until_shutdown(aio::queue<int>& queue, std::string name) {
  try {
    while (true) {
      int item = co_await queue.get();
      std::printf("Consumer %s processed: %d\n", name.c_str(), item);
      co_await aio::sleep(200ms);
      queue.task_done();
    }
  } catch (const aio::queue_shut_down&) {
    std::printf("Consumer %s: queue shut down\n", name.c_str());
  }
}

aio::task<void> with_shutdown() {
  aio::queue<int> queue{5};
  co_await aio::gather(producer_then_shutdown(queue, 10), consumer_until_shutdown(queue, "A"),
                       consumer_until_shutdown(queue, "B"));
}
// [/shutdown]

aio::task<void> async_main() {
  std::printf("-- a sentinel per consumer --\n");
  co_await with_sentinels();
  std::printf("-- shutdown() --\n");
  co_await with_shutdown();
}

int main() {
  aio::run(async_main());
}
