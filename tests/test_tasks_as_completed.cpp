#include <aio/tasks.hpp>

#include <aio/future.hpp>
#include <aio/generator.hpp>
#include <aio/locks.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
using aio::test::now_seconds;
using aio::test::run_test;

// --- static checks -----------------------------------------------------------

static_assert(std::is_same_v<decltype(aio::as_completed(std::declval<std::vector<aio::task<int>>>())),
                             aio::async_generator<int>>);
static_assert(std::is_same_v<decltype(aio::as_completed(std::declval<std::vector<aio::task<>>>())),
                             aio::async_generator<std::monostate>>);
static_assert(std::is_same_v<decltype(aio::as_completed(std::declval<std::vector<aio::task<std::unique_ptr<int>>>>())),
                             aio::async_generator<std::unique_ptr<int>>>);

namespace {

using log_t = std::vector<std::string>;

struct tracker {
  int started = 0;
  int running = 0;
  int cancelled = 0;
};

aio::task<int> after(aio::duration d, int v, tracker& t) {
  ++t.started;
  ++t.running;
  aio::test::counted alive{v};
  bool was_cancelled = false;
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    was_cancelled = true;
  }
  if (was_cancelled) {
    co_await aio::sleep(100ms);  // cleanup that awaits
    ++t.cancelled;
    --t.running;
    throw aio::cancelled_error{};
  }
  --t.running;
  co_return v;
}

aio::task<int> fail_after(aio::duration d) {
  co_await aio::sleep(d);
  throw std::runtime_error("child failed");
}

std::vector<aio::task<int>> three(tracker& t) {
  std::vector<aio::task<int>> v;
  v.push_back(after(3s, 3, t));
  v.push_back(after(1s, 1, t));
  v.push_back(after(2s, 2, t));
  return v;
}

aio::task<> completion_order() {
  tracker t;
  auto gen = aio::as_completed(three(t));
  co_await aio::sleep(1s);
  CHECK(t.started == 0);  // the children start at the first next()
  std::vector<int> got;
  std::vector<double> times;
  while (auto v = co_await gen.next()) {
    got.push_back(*v);
    times.push_back(now_seconds());
  }
  CHECK(got == std::vector<int>{1, 2, 3});
  CHECK(times == std::vector<double>{2, 3, 4});
  CHECK(t.running == 0);
}

TEST_CASE("as_completed: yields values in completion order", "[tasks]") { run_test(completion_order()); }

aio::task<> empty_and_invalid() {
  auto gen = aio::as_completed(std::vector<aio::task<int>>{});
  auto v = co_await gen.next();
  CHECK_FALSE(v);
  tracker t;
  auto tasks = three(t);
  auto moved = std::move(tasks[0]);
  CHECK_THROWS_AS(aio::as_completed(std::move(tasks)), aio::invalid_state_error);
}

TEST_CASE("as_completed: no children; a moved-from task is rejected at once", "[tasks]") {
  run_test(empty_and_invalid());
}

aio::task<> nap(aio::duration d) { co_await aio::sleep(d); }
aio::task<std::unique_ptr<int>> box(int v) {
  co_await aio::sleep(std::chrono::seconds(v));
  co_return std::make_unique<int>(v);
}

aio::task<> void_and_move_only() {
  std::vector<aio::task<>> voids;
  voids.push_back(nap(1s));
  voids.push_back(nap(2s));
  int n = 0;
  auto gen = aio::as_completed(std::move(voids));
  while (auto v = co_await gen.next()) ++n;
  CHECK(n == 2);
  std::vector<aio::task<std::unique_ptr<int>>> boxes;
  boxes.push_back(box(2));
  boxes.push_back(box(1));
  auto bgen = aio::as_completed(std::move(boxes));
  std::vector<int> got;
  while (auto b = co_await bgen.next()) got.push_back(**b);
  CHECK(got == std::vector<int>{1, 2});
}

TEST_CASE("as_completed: void children (std::monostate) and move-only results", "[tasks]") {
  run_test(void_and_move_only());
}

aio::task<> failure_cancels_the_rest() {
  aio::test::counted::reset();
  tracker t;
  auto tasks = three(t);
  tasks.push_back(fail_after(1500ms));
  auto gen = aio::as_completed(std::move(tasks));
  std::vector<int> got;
  std::string error;
  try {
    while (auto v = co_await gen.next()) got.push_back(*v);
  } catch (const std::runtime_error& e) {
    error = e.what();
    // The others were cancelled and have finished before the error arrived.
    CHECK(t.running == 0);
    CHECK(t.cancelled == 2);
    CHECK(aio::test::counted::alive == 0);
  }
  CHECK(got == std::vector<int>{1});
  CHECK(error == "child failed");
  CHECK(now_seconds() == Approx(1.6));
  CHECK(gen.done());
}

TEST_CASE("as_completed: a failure cancels and awaits the other children, then comes out of next()", "[tasks]") {
  run_test(failure_cancels_the_rest());
}

aio::task<> consume_all(aio::async_generator<int>& gen, std::vector<int>& got) {
  while (auto v = co_await gen.next()) got.push_back(*v);
}

aio::task<> cancel_the_consumer() {
  tracker t;
  auto gen = aio::as_completed(three(t));
  std::vector<int> got;
  auto consumer = aio::create_task(consume_all(gen, got));
  co_await aio::sleep(1500ms);
  consumer.cancel();
  co_await aio::sleep(1s);
  CHECK(consumer.cancelled());
  CHECK(got == std::vector<int>{1});
  CHECK(t.running == 0);
  CHECK(t.cancelled == 2);
}

TEST_CASE("as_completed: cancelling the consumer cancels and awaits the children", "[tasks]") {
  run_test(cancel_the_consumer());
}

aio::task<> aclose_stops_early() {
  aio::test::counted::reset();
  tracker t;
  auto gen = aio::as_completed(three(t));
  auto first = co_await gen.next();
  CHECK(*first == 1);
  co_await gen.aclose();
  // aclose returned only after the remaining children finished their cancellation.
  CHECK(t.running == 0);
  CHECK(t.cancelled == 2);
  CHECK(aio::test::counted::alive == 0);
  CHECK(now_seconds() == Approx(1.1));
}

TEST_CASE("as_completed: aclose() cancels the rest and waits for them", "[tasks]") { run_test(aclose_stops_early()); }

aio::task<> for_each_over_as_completed() {
  tracker t;
  std::vector<int> got;
  auto collect = [&got](int v) {
    got.push_back(v);
    if (v == 2) throw std::logic_error("enough");
  };
  std::string error;
  try {
    co_await aio::for_each(aio::as_completed(three(t)), collect);
  } catch (const std::logic_error& e) {
    error = e.what();
    CHECK(t.running == 0);  // closed: the last child was cancelled and awaited
    CHECK(t.cancelled == 1);
  }
  CHECK(error == "enough");
  CHECK(got == std::vector<int>{1, 2});
}

TEST_CASE("as_completed: for_each closes it when the callback throws", "[tasks]") {
  run_test(for_each_over_as_completed());
}

aio::task<> destroyed_early() {
  aio::test::counted::reset();
  tracker t;
  {
    auto gen = aio::as_completed(three(t));
    auto first = co_await gen.next();
    CHECK(*first == 1);
  }  // destroyed: the rest are cancelled but a destructor cannot wait for them
  CHECK(t.running == 2);
  co_await aio::sleep(1s);
  CHECK(t.running == 0);
  CHECK(t.cancelled == 2);
  CHECK(aio::test::counted::alive == 0);
}

TEST_CASE("as_completed: destroying it early cancels the rest, which finish on the loop", "[tasks]") {
  run_test(destroyed_early());
}

aio::task<int> stubborn(aio::event& never) {
  aio::test::counted alive{1};
  for (;;) {
    try {
      co_await never.wait();
    } catch (const aio::cancelled_error&) {
    }
  }
}

aio::task<> consume_stubborn(aio::event& never) {
  std::vector<aio::task<int>> v;
  v.push_back(stubborn(never));
  v.push_back(stubborn(never));
  auto gen = aio::as_completed(std::move(v));
  std::vector<int> got;
  co_await consume_all(gen, got);
}

aio::task<> leave_stubborn_children(aio::event& never) {
  (void)aio::create_task(consume_stubborn(never));
  co_await aio::sleep(1s);
}

TEST_CASE("as_completed: a loop closing under it frees everything", "[tasks]") {
  aio::test::counted::reset();
  aio::event never;
  // aio::run cancels the consumer, whose generator then waits for children
  // that swallow every cancel; close() destroys them all.
  run_test(leave_stubborn_children(never));
  CHECK(aio::test::counted::alive == 0);
}

}  // namespace
