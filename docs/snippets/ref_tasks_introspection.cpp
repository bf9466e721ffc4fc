// docs/reference/tasks.md: current_task, all_tasks, dump_tasks and the async
// stack traces. Built with AIO_ASYNC_STACKS=1 and paths relative to the
// repository (docs/snippets/CMakeLists.txt).
#include <aio/event_loop.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

using namespace std::chrono_literals;

// [chain]
aio::task<int> next_job(aio::queue<int>& jobs) {
  int job = co_await jobs.get();
  co_return job;
}

aio::task<void> worker(aio::queue<int>* jobs) {
  aio::task_info me = co_await aio::current_task();
  for (;;) {
    int job = co_await next_job(*jobs);
    std::printf("%s got job %d\n", me.get_name().c_str(), job);
  }
}

aio::task<void> napper() { co_await aio::sleep(1h); }

aio::task<void> main_task() {
  aio::queue<int> jobs;
  aio::future<void> w = aio::create_task(worker(&jobs), "worker");
  aio::future<void> n = aio::create_task(napper(), "napper");
  jobs.put_nowait(1);
  co_await aio::sleep(1s);  // the worker takes job 1 and waits for the next

  std::printf("%zu pending tasks\n", aio::all_tasks().size());
  aio::dump_tasks(std::cout);

  w.cancel();
  n.cancel();
  co_await aio::gather_settled(w, n);
}

int main() { aio::run(main_task(), aio::virtual_time); }
// [/chain]
