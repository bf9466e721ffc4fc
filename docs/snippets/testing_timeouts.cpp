// docs/guide/15-testing.md: testing time-dependent code — a retry loop with a
// timeout and a back-off — on virtual time: minutes of loop time, exact, in
// microseconds of real time.

#include <aio/exceptions.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

// [code]
/// A server that answers after `delay`.
aio::task<std::string> ask(aio::duration delay) {
  co_await aio::sleep(delay);
  co_return "pong";
}

/// Gives each attempt 10 s, waits 1 s, 2 s, 4 s... between attempts.
aio::task<std::string> ask_with_retries(aio::duration delay, int attempts) {
  aio::duration backoff = 1s;
  for (int i = 1;; ++i) {
    try {
      auto attempt = aio::wait_for(ask(delay), 10s);
      co_return co_await std::move(attempt);
    } catch (const aio::timeout_error&) {
      if (i == attempts) throw;
    }
    co_await aio::sleep(backoff);
    backoff *= 2;
  }
}
// [/code]

// [tests]
void require(bool cond, const char* what) {
  if (!cond) throw aio::testing::test_failure(std::string("assertion failed: ") + what);
}

aio::task<void> test_fast_server_answers_at_once() {
  std::string answer = co_await ask_with_retries(2s, 3);
  require(answer == "pong", "answer == \"pong\"");
  aio::testing::require_elapsed(2s);
}

aio::task<void> test_slow_server_exhausts_the_retries() {
  bool timed_out = false;
  try {
    co_await ask_with_retries(1h, 3);  // an hour-long answer: never waited for
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  require(timed_out, "timed out");
  aio::testing::require_elapsed(3 * 10s + 1s + 2s);  // three attempts, two back-offs
}

int main() {
  const auto real_start = std::chrono::steady_clock::now();
  aio::testing::run(test_fast_server_answers_at_once());
  std::printf("PASSED test_fast_server_answers_at_once\n");
  aio::testing::run(test_slow_server_exhausts_the_retries());
  std::printf("PASSED test_slow_server_exhausts_the_retries\n");
  const std::chrono::duration<double> real = std::chrono::steady_clock::now() - real_start;
  std::printf("35 s of loop time in %s of real time\n", real < 100ms ? "less than 0.1 s" : "more than 0.1 s");
}
// [/tests]
