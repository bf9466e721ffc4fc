// docs/guide/16-when-to-use-async.md: CPU-bound work from a coroutine. The
// computation runs on other threads (aio::to_thread, or loop.run_in_executor
// with an aio::thread_pool); the tasks that await it stay on the loop's thread,
// and the loop keeps serving other tasks meanwhile.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// [cpu_work]
/// Pure computation: no awaits, no loop objects, only its arguments.
long count_primes(long from, long to) {
  long count = 0;
  for (long n = from < 2 ? 2 : from; n < to; ++n) {
    bool prime = true;
    for (long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime;
  }
  return count;
}
// [/cpu_work]

// [offload]
struct ticker_state {
  bool stop = false;
  int ticks = 0;
};

/// Proves the loop is free: ticks every 10 ms while the primes are counted.
aio::task<void> ticker(ticker_state* st) {
  while (!st->stop) {
    co_await aio::sleep(10ms);
    ++st->ticks;
  }
}

aio::task<long> count_in_chunks(long limit, int chunks) {
  std::vector<aio::task<long>> parts;
  for (int i = 0; i < chunks; ++i) {
    // to_thread copies count_primes' arguments into the job: nothing on the
    // other thread points into this coroutine's frame.
    parts.push_back(aio::to_thread(count_primes, limit * i / chunks, limit * (i + 1) / chunks));
  }
  std::vector<long> counts = co_await aio::gather(std::move(parts));
  long total = 0;
  for (long c : counts) total += c;
  co_return total;
}

aio::task<long> count_on_my_pool(aio::thread_pool* pool, long limit) {
  aio::event_loop& loop = aio::get_running_loop();
  auto job = [limit] { return count_primes(0, limit); };  // named: no lambda inside co_await (g++ 12)
  co_return co_await loop.run_in_executor(*pool, job);
}

aio::task<void> async_main() {
  const auto loop_thread = std::this_thread::get_id();
  ticker_state st;
  aio::future<void> ticking = aio::create_task(ticker(&st));

  long a = co_await count_in_chunks(300000, 4);
  bool same_thread = std::this_thread::get_id() == loop_thread;

  aio::thread_pool pool{2};  // concurrent.futures.ThreadPoolExecutor(max_workers=2)
  long b = co_await count_on_my_pool(&pool, 300000);
  same_thread = same_thread && std::this_thread::get_id() == loop_thread;

  st.stop = true;
  co_await ticking;
  std::printf("primes below 300000: %ld (to_thread, 4 chunks), %ld (run_in_executor)\n", a, b);
  std::printf("resumed on the loop's thread after each await: %s\n", same_thread ? "yes" : "no");
  std::printf("the loop kept running other tasks meanwhile: %s\n", st.ticks > 0 ? "yes" : "no");
}
// [/offload]

int main() { aio::run(async_main()); }
