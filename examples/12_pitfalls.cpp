// 12 — Common Pitfalls and Solutions (asyncio guide).
//
// The guide's three pitfalls, each shown going wrong and then done right:
//   1. blocking the event loop (time.sleep in a coroutine) — measured with a
//      ticker task that should tick every 100 ms; the fix is aio::to_thread or
//      loop.run_in_executor;
//   2. mixing sync and async — aio::run from synchronous code is right;
//      aio::run inside a running loop is an error that says what to do;
//   3. forgetting to await — a task<T> is lazy: if nobody awaits it, its body
//      never runs.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <type_traits>

using namespace std::chrono_literals;

using steady = std::chrono::steady_clock;

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// --- 1. Blocking the event loop --------------------------------------------------

/// Ticks every 100 ms until stopped, and records the longest gap between two
/// ticks: 0.1 s when the loop is free, more when something blocks it.
struct ticker_state {
  bool stop = false;
  double longest_gap = 0;
  int ticks = 0;
};

aio::task<void> ticker(ticker_state* st) {
  auto last = steady::now();
  while (!st->stop) {
    co_await aio::sleep(100ms);
    const auto now = steady::now();
    st->longest_gap = std::max(st->longest_gap, seconds_between(last, now));
    last = now;
    ++st->ticks;
  }
}

std::string blocking_function() {
  std::this_thread::sleep_for(1s);  // a blocking call: a C library, a disk, time.sleep(1)
  return "blocking result";
}

// [blocking]
// ❌ Bad: the blocking call runs on the loop's thread, so nothing else runs.
aio::task<void> bad_function() {
  std::this_thread::sleep_for(1s);
  co_return;
}

// ✅ Good: a non-blocking sleep lets the loop run other tasks meanwhile.
aio::task<void> good_function() { co_await aio::sleep(1s); }

// ✅ If you must use blocking code: run it on a thread, await the result.
aio::task<std::string> run_blocking_to_thread() { co_return co_await aio::to_thread(blocking_function); }

// ✅ Or with an executor of your own, as the guide does with ThreadPoolExecutor.
aio::task<std::string> run_blocking_in_executor(aio::thread_pool* executor) {
  aio::event_loop& loop = aio::get_running_loop();
  co_return co_await loop.run_in_executor(*executor, blocking_function);
}
// [/blocking]

/// Runs `work` next to a ticker and reports the ticker's longest gap.
template <class T>
aio::task<T> with_ticker(const char* label, aio::task<T> work) {
  ticker_state st;
  aio::future<void> ticking = aio::create_task(ticker(&st));
  co_await aio::sleep(150ms);  // let it tick once or twice first
  const auto t0 = steady::now();
  if constexpr (std::is_void_v<T>) {
    co_await std::move(work);
    const double took = seconds_between(t0, steady::now());
    st.stop = true;
    co_await ticking;
    std::printf("  %-44s took %.2f s; ticker's longest gap: %.2f s\n", label, took, st.longest_gap);
  } else {
    T result = co_await std::move(work);
    const double took = seconds_between(t0, steady::now());
    st.stop = true;
    co_await ticking;
    std::printf("  %-44s took %.2f s; ticker's longest gap: %.2f s\n", label, took, st.longest_gap);
    co_return result;
  }
}

aio::task<void> pitfall_blocking() {
  std::printf("1. Blocking the event loop (a ticker ticks every 0.10 s alongside)\n");
  co_await with_ticker("bad:  std::this_thread::sleep_for(1s)", bad_function());
  co_await with_ticker("good: co_await aio::sleep(1s)", good_function());
  std::string r1 = co_await with_ticker("good: co_await aio::to_thread(blocking)", run_blocking_to_thread());
  aio::thread_pool executor{2};
  std::string r2 =
      co_await with_ticker("good: loop.run_in_executor(pool, blocking)", run_blocking_in_executor(&executor));
  std::printf("  results: \"%s\", \"%s\"\n", r1.c_str(), r2.c_str());
}

// --- 2. Mixing sync and async ----------------------------------------------------

aio::task<std::string> async_function() {
  co_await aio::sleep(10ms);
  co_return "async result";
}

// [mixing]
// ✅ From synchronous code, aio::run starts a loop, runs the task and returns
// its result (asyncio.run). In C++ there is no "await outside async def"
// SyntaxError to catch this at compile time: co_await makes a function a
// coroutine, and a coroutine must return an awaitable type such as aio::task.
std::string sync_function() { return aio::run(async_function()); }

// ❌ Calling the synchronous wrapper from inside a coroutine nests aio::run
// inside the running loop: a clear error, not a hang.
aio::task<void> async_caller_of_sync_code() {
  try {
    std::string r = sync_function();
    std::printf("  unexpected: %s\n", r.c_str());
  } catch (const aio::invalid_state_error& e) {
    std::printf("  aio::run inside a running loop throws aio::invalid_state_error:\n    %s\n", e.what());
  }
  // ✅ Inside a coroutine, await instead.
  std::string r = co_await async_function();
  std::printf("  inside a coroutine, co_await async_function() -> \"%s\"\n", r.c_str());
}
// [/mixing]

void pitfall_mixing() {
  std::printf("2. Mixing sync and async\n");
  std::printf("  from main, aio::run(async_function()) -> \"%s\"\n", sync_function().c_str());
  aio::run(async_caller_of_sync_code());
}

// --- 3. Forgetting to await ----------------------------------------------------------

bool fetch_data_ran = false;

aio::task<std::string> fetch_data() {
  fetch_data_ran = true;
  co_return "data";
}

// [forgetting]
aio::task<void> pitfall_forgetting() {
  std::printf("3. Forgetting to await\n");
  // ❌ Python: `result = fetch_data()` is a coroutine object, not the result.
  // In C++, a bare `fetch_data();` does not compile quietly: aio::task is
  // [[nodiscard]], and g++ warns
  //   warning: ignoring returned value of type 'aio::task<std::string>', declared
  //   with attribute 'nodiscard': 'a task does nothing until it is awaited or
  //   passed to aio::create_task'
  // (an error under -Werror, as this project builds). The (void) cast below
  // silences the warning on purpose, to show what happens at run time:
  (void)fetch_data();  // the task is made and destroyed; its body never runs
  std::printf("  (void)fetch_data();           body ran: %s\n", fetch_data_ran ? "yes" : "no");
  auto forgotten = fetch_data();  // kept in a variable, but never awaited
  std::printf("  auto t = fetch_data();        body ran: %s\n", fetch_data_ran ? "yes" : "no");
  // ✅ Good: await it (or hand it to aio::create_task to run concurrently).
  std::string result = co_await fetch_data();
  std::printf("  co_await fetch_data() -> \"%s\", body ran: %s\n", result.c_str(), fetch_data_ran ? "yes" : "no");
  (void)forgotten;
}
// [/forgetting]

int main() {
  aio::run(pitfall_blocking());
  pitfall_mixing();
  aio::run(pitfall_forgetting());
}
