// docs/guide/11-cancellation.md: the rules of cancellation, one small case
// each, on virtual time (the times printed are exact).

#include <aio/cancellation.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

double now() { return std::chrono::duration<double>(aio::get_running_loop().time().time_since_epoch()).count(); }

// [not_started]
aio::task<void> never_runs() {
  std::printf("  (not printed: the body never starts)\n");
  co_return;
}

aio::task<void> cancel_before_start() {
  aio::future<void> job = aio::create_task(never_runs());
  job.cancel();  // before the next iteration, where it would have started
  try {
    co_await job;
  } catch (const aio::cancelled_error&) {
    std::printf("  cancelled before its first step: cancelled() = %s\n", job.cancelled() ? "true" : "false");
  }
}
// [/not_started]

// [not_std_exception]
aio::task<void> careful_worker() {
  try {
    co_await aio::sleep(10s);
  } catch (const std::exception&) {  // meant for I/O errors and the like
    std::printf("  (not printed: cancelled_error is not a std::exception)\n");
  }
}

aio::task<void> catch_all_does_not_swallow() {
  aio::future<void> job = aio::create_task(careful_worker());
  co_await aio::sleep(1s);
  job.cancel();
  try {
    co_await job;
  } catch (const aio::cancelled_error& e) {
    std::printf("  went past catch (std::exception&): %s\n", e.what());
  }
}
// [/not_std_exception]

// [swallowed]
aio::task<std::string> stubborn() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    co_return "partial result";  // swallowed: the task completes normally
  }
  co_return "full result";
}

aio::task<void> swallowing() {
  aio::future<std::string> job = aio::create_task(stubborn());
  co_await aio::sleep(1s);
  job.cancel();
  std::string result = co_await job;  // no exception
  std::printf("  \"%s\", cancelled() = %s\n", result.c_str(), job.cancelled() ? "true" : "false");
}
// [/swallowed]

// [token]
aio::task<int> count_to(std::string name, int n) {
  int i = 0;
  try {
    for (; i < n; ++i) co_await aio::sleep(1s);
  } catch (const aio::cancelled_error&) {
    std::printf("  %s stopped at %d, t=%.1f\n", name.c_str(), i, now());
    throw;
  }
  co_return i;
}

aio::task<void> stop_on_request(std::string name, int n, aio::cancellation_token token) {
  try {
    auto work = aio::with_cancellation(count_to(name, n), token);
    int counted = co_await std::move(work);
    std::printf("  %s counted to %d, t=%.1f\n", name.c_str(), counted, now());
  } catch (const aio::cancelled_error&) {
    // The token's cancellation ends this job, not the whole program.
  }
}

aio::task<void> press_stop(aio::cancellation_source stop, aio::duration after) {
  co_await aio::sleep(after);
  std::printf("  stop requested, t=%.1f\n", now());
  stop.cancel();
}

aio::task<void> one_source_many_jobs() {
  aio::cancellation_source stop;
  co_await aio::gather(stop_on_request("short", 2, stop.token()), stop_on_request("long", 10, stop.token()),
                       stop_on_request("longer", 20, stop.token()), press_stop(stop, 3500ms));
}
// [/token]

aio::task<void> run_one(const char* title, aio::task<void> demo) {
  std::printf("%s\n", title);
  co_await std::move(demo);
}

int main() {
  aio::run(run_one("a task cancelled before it starts:", cancel_before_start()), aio::virtual_time);
  aio::run(run_one("catch (const std::exception&):", catch_all_does_not_swallow()), aio::virtual_time);
  aio::run(run_one("a task that swallows the cancellation:", swallowing()), aio::virtual_time);
  aio::run(run_one("one cancellation_source, three jobs:", one_source_many_jobs()), aio::virtual_time);
}
