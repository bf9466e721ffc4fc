// docs/reference/testing.md: aio::testing::run, require_elapsed, stopwatch.
#include <aio/exceptions.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// [run]
aio::task<void> nap(aio::duration d) { co_await aio::sleep(d); }

aio::task<int> three_naps_take_one_second() {
  co_await aio::gather(nap(1s), nap(1s), nap(1s));
  aio::testing::require_elapsed(1s);  // exact: virtual time does not drift
  aio::testing::stopwatch sw;
  co_await nap(1h);  // an hour, in microseconds of real time
  sw.require_elapsed(1h);
  std::printf("elapsed_seconds() = %.1f\n", aio::testing::elapsed_seconds());
  co_return 7;
}
// [/run]

// [failures]
aio::task<void> too_slow() {
  co_await nap(2s);
  aio::testing::require_elapsed(1s, 100ms);  // fails: 2 s elapsed
}

aio::task<void> leaks_a_task() {
  auto f = aio::create_task(nap(1h));  // still pending when the test returns
  co_return;
}
// [/failures]

int main() {
  // [run_main]
  int v = aio::testing::run(three_naps_take_one_second());
  std::printf("test returned %d\n", v);
  // [/run_main]
  // [failures_main]
  for (auto* test : {too_slow, leaks_a_task}) {
    try {
      aio::testing::run(test());
    } catch (const aio::testing::test_failure& e) {
      std::string message = e.what();
      auto at = message.rfind(" (");
      if (message.find(".cpp:", at) != std::string::npos) message.resize(at);  // drop the file:line
      std::printf("test_failure: %s\n", message.c_str());
    }
  }
  // [/failures_main]
}
