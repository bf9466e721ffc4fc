// docs/reference/task_group.md: with_task_group, task_group, exception_group.
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task_group.hpp>
#include <aio/tasks.hpp>

#include "loop_clock.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::task<int> after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

// [basic]
aio::task<int> start_three(aio::task_group& g, std::vector<aio::future<int>>& out) {
  for (int i = 1; i <= 3; ++i) out.push_back(g.create_task(after(std::chrono::seconds(i), i * 10)));
  co_return static_cast<int>(g.size());  // children started so far
}

aio::task<void> basic() {
  std::vector<aio::future<int>> results;
  int started = co_await aio::with_task_group(start_three, std::ref(results));
  std::printf("%lld ms: body returned %d; results %d %d %d\n", ms(), started, results[0].result(),
              results[1].result(), results[2].result());
}
// [/basic]

// [failure]
aio::task<int> fail_after(aio::duration d, std::string what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}

aio::task<int> patient() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    std::printf("%lld ms: patient cancelled by the group\n", ms());
    throw;
  }
  co_return 0;
}

aio::task<void> one_fails(aio::task_group& g) {
  g.create_task(patient());
  g.create_task(fail_after(1s, "first"));
  co_return;
}

aio::task<int> fails_in_cleanup() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    throw std::runtime_error("cleanup failed");
  }
  co_return 0;
}

aio::task<void> two_fail(aio::task_group& g) {
  g.create_task(fails_in_cleanup());
  g.create_task(fail_after(1s, "first"));
  co_return;
}

aio::task<void> failures() {
  try {
    co_await aio::with_task_group(one_fails);
  } catch (const std::runtime_error& e) {  // one error: rethrown as itself
    std::printf("%lld ms: %s\n", ms(), e.what());
  }
  try {
    co_await aio::with_task_group(two_fail);
  } catch (const aio::exception_group& eg) {  // several: an exception_group
    std::printf("%lld ms: exception_group of %zu\n", ms(), eg.exceptions().size());
    for (const auto& e : eg.exceptions()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::runtime_error& re) {
        std::printf("  %s\n", re.what());
      }
    }
  }
}
// [/failure]

// [same_iteration]
aio::task<void> same_time(aio::task_group& g) {
  g.create_task(fail_after(1s, "a"));
  g.create_task(fail_after(1s, "b"));  // its wake-up is queued when "a" fails: cancelled there
  co_return;
}

aio::task<void> same_iteration() {
  try {
    co_await aio::with_task_group(same_time);
  } catch (const std::runtime_error& e) {
    std::printf("%lld ms: only %s\n", ms(), e.what());
  }
}
// [/same_iteration]

// [cancel_owner]
aio::task<void> sleepers(aio::task_group& g) {
  g.create_task(patient());
  g.create_task(patient());
  co_return;
}

aio::task<void> owner() { co_await aio::with_task_group(sleepers); }

aio::task<void> cancel_owner() {
  auto f = aio::create_task(owner());
  co_await aio::sleep(2s);
  f.cancel();
  auto [o] = co_await aio::gather_settled(f);
  std::printf("%lld ms: owner cancelled = %d\n", ms(), o.cancelled());
}
// [/cancel_owner]

int main() {
  aio::run(basic(), aio::virtual_time);
  aio::run(failures(), aio::virtual_time);
  aio::run(same_iteration(), aio::virtual_time);
  aio::run(cancel_owner(), aio::virtual_time);
}
