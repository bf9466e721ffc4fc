// docs/guide/12-queues.md: the guide's producer-consumer as written — one None
// sentinel for two consumers — on virtual time. asyncio would wait forever;
// aio::run sees that nothing can ever wake the second consumer and says so.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

using namespace std::chrono_literals;

double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [one_sentinel]
aio::task<void> producer(aio::queue<std::optional<int>>& queue, int items) {
  for (int item = 0; item < items; ++item) {
    co_await queue.put(item);
    co_await aio::sleep(500ms);
  }
  co_await queue.put(std::nullopt);  // one sentinel, two consumers
}

aio::task<void> consumer(aio::queue<std::optional<int>>& queue, std::string name) {
  while (true) {
    std::optional<int> item = co_await queue.get();
    queue.task_done();
    if (!item) break;
    co_await aio::sleep(1s);
  }
  std::printf("consumer %s got the sentinel at t=%.1f\n", name.c_str(), now());
}

aio::task<void> guide_as_written() {
  aio::queue<std::optional<int>> queue{5};
  // Named tasks, so that a report can say who is stuck.
  aio::future<void> p = aio::create_task(producer(queue, 10), "producer");
  aio::future<void> a = aio::create_task(consumer(queue, "A"), "consumer A");
  aio::future<void> b = aio::create_task(consumer(queue, "B"), "consumer B");
  co_await aio::gather(p, a, b);
}

int main() {
  try {
    aio::run(guide_as_written(), aio::virtual_time);
  } catch (const aio::deadlock_error& e) {
    std::printf("aio::deadlock_error:\n%s\n", e.what());
  }
}
// [/one_sentinel]
