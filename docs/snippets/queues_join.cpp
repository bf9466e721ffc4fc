// docs/guide/12-queues.md: the other way to end a producer-consumer — no
// sentinel: wait until every item is done with queue.join(), then cancel the
// workers. On virtual time, so the times printed are exact.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [join]
aio::task<void> worker(aio::queue<int>& queue, std::string name) {
  while (true) {
    int item = co_await queue.get();  // where the final cancel arrives
    co_await aio::sleep(std::chrono::seconds(item));
    std::printf("t=%.1f %s finished a %d s item\n", now(), name.c_str(), item);
    queue.task_done();
  }
}

aio::task<void> async_main() {
  aio::queue<int> queue;  // unbounded
  for (int seconds : {3, 1, 2, 1, 1}) queue.put_nowait(seconds);

  std::vector<aio::future<void>> workers;
  for (const char* name : {"A", "B"}) workers.push_back(aio::create_task(worker(queue, name)));

  co_await queue.join();  // until task_done() was called once per item
  std::printf("t=%.1f all items done; stopping the workers\n", now());
  for (auto& w : workers) w.cancel();
  auto outcomes = co_await aio::gather_settled(std::move(workers));
  bool both = outcomes[0].cancelled() && outcomes[1].cancelled();
  std::printf("t=%.1f workers cancelled: %s\n", now(), both ? "both" : "not all");
}
// [/join]

int main() { aio::run(async_main(), aio::virtual_time); }
