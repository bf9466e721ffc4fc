// docs/reference/threads.md: to_thread, thread_pool, run_in_executor,
// run_coroutine_threadsafe, call_soon_threadsafe.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

// [to_thread]
int blocking_sum(int n) {  // a blocking call: sleeps for real on a worker thread
  std::this_thread::sleep_for(50ms);
  int s = 0;
  for (int i = 1; i <= n; ++i) s += i;
  return s;
}

aio::task<void> to_threads() {
  const auto loop_thread = std::this_thread::get_id();
  auto [a, b] = co_await aio::gather(aio::to_thread(blocking_sum, 10), aio::to_thread(blocking_sum, 100));
  std::printf("sums %d %d, back on the loop thread: %d\n", a, b, std::this_thread::get_id() == loop_thread);
}
// [/to_thread]

// [errors]
int refuse() { throw std::runtime_error("bad file"); }

aio::task<void> errors() {
  try {
    co_await aio::to_thread(refuse);
  } catch (const std::runtime_error& e) {
    std::printf("to_thread rethrows: %s\n", e.what());
  }
}
// [/errors]

// [cancel]
aio::task<void> cancels() {
  try {
    co_await aio::wait_for(aio::to_thread([] {
      std::this_thread::sleep_for(200ms);
      return 1;
    }), 20ms);
  } catch (const aio::timeout_error&) {
    std::puts("timeout_error: the thread finishes on its own, its result is dropped");
  }
}
// [/cancel]

// [pool]
aio::task<void> pools(aio::thread_pool& pool) {
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<std::string> f = loop.run_in_executor(pool, [] { return std::string("from the pool"); });
  std::printf("%s (pool of %zu)\n", (co_await f).c_str(), pool.size());
}
// [/pool]

// [threadsafe]
aio::task<int> on_the_loop(int x) {
  co_await aio::sleep(10ms);
  co_return x * 2;
}

aio::task<void> serve_other_thread() {
  aio::event_loop& loop = aio::get_running_loop();
  auto keep = loop.keep_alive();  // another thread will call in: do not report a deadlock
  aio::future<int> answer;
  std::thread t([&loop, answer, k = std::move(keep)]() mutable {
    std::future<int> r = aio::run_coroutine_threadsafe(on_the_loop(21), loop);
    int v = r.get();  // blocks this thread, not the loop
    loop.call_soon_threadsafe([answer, v]() mutable { answer.set_result(v); });
  });
  int v = co_await answer;
  t.join();
  std::printf("run_coroutine_threadsafe: %d\n", v);
}
// [/threadsafe]

int main() {
  aio::run(to_threads());
  aio::run(errors());
  aio::run(cancels());
  {
    aio::thread_pool pool{2};
    aio::run(pools(pool));
  }
  aio::run(serve_other_thread());
}
