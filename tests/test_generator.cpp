#include <aio/generator.hpp>

#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using aio::test::now_seconds;
using aio::test::run_test;

// --- static checks -----------------------------------------------------------

static_assert(std::is_same_v<decltype(std::declval<aio::async_generator<int>&>().next().await_resume()),
                             std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<aio::async_generator<int>&>().aclose().await_resume()), void>);
static_assert(!std::is_copy_constructible_v<aio::async_generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<aio::async_generator<int>>);
static_assert(std::is_same_v<aio::async_generator<std::string>::value_type, std::string>);
static_assert(aio::detail::is_aio_promise<aio::async_generator<int>::promise_type>);
static_assert(std::is_same_v<decltype(aio::for_each(std::declval<aio::async_generator<int>>(), [](int) {})),
                             aio::task<>>);

namespace {

using log_t = std::vector<std::string>;

aio::async_generator<int> count_to(int n, log_t& log) {
  log.push_back("started");
  for (int i = 1; i <= n; ++i) co_yield i;
  log.push_back("finished");
}

aio::task<> yields_in_order() {
  log_t log;
  auto gen = count_to(3, log);
  CHECK(log.empty());  // lazy
  std::vector<int> got;
  while (auto v = co_await gen.next()) got.push_back(*v);
  CHECK(got == std::vector<int>{1, 2, 3});
  CHECK(log == log_t{"started", "finished"});
  CHECK(gen.done());
  auto again = co_await gen.next();
  CHECK_FALSE(again);  // stays exhausted
}

TEST_CASE("async_generator: lazy, yields in order, then nullopt", "[generator]") { run_test(yields_in_order()); }

aio::async_generator<int> ticks(int n, aio::duration every) {
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(every);
    co_yield i;
  }
}

aio::task<> generator_awaits() {
  auto gen = ticks(3, 1s);
  std::vector<double> times;
  while (auto v = co_await gen.next()) times.push_back(now_seconds());
  CHECK(times == std::vector<double>{1, 2, 3});
}

TEST_CASE("async_generator: co_await inside the body", "[generator]") { run_test(generator_awaits()); }

aio::task<> spin(int& iterations, bool& stop) {
  while (!stop) {
    ++iterations;
    co_await aio::yield();
  }
}

aio::task<> no_await_no_suspension() {
  log_t log;
  int iterations = 0;
  bool stop = false;
  auto spinner = aio::create_task(spin(iterations, stop));
  co_await aio::yield();
  const int before = iterations;
  auto gen = count_to(100000, log);  // deep enough to catch any stack growth
  long sum = 0;
  while (auto v = co_await gen.next()) sum += *v;
  CHECK(sum == 100000L * 100001L / 2);
  CHECK(iterations == before);  // the consumer never yielded to the loop
  stop = true;
  co_await spinner;
}

TEST_CASE("async_generator: a body that does not await never suspends the consumer", "[generator]") {
  run_test(no_await_no_suspension());
}

aio::async_generator<int> fails_after(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
  throw std::runtime_error("generator failed");
}

aio::task<> errors_come_out_of_next() {
  auto gen = fails_after(2);
  std::vector<int> got;
  std::string error;
  try {
    while (auto v = co_await gen.next()) got.push_back(*v);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK(got == std::vector<int>{0, 1});
  CHECK(error == "generator failed");
  CHECK(gen.done());
  auto after = co_await gen.next();
  CHECK_FALSE(after);
}

TEST_CASE("async_generator: an exception comes out of next(), then it is done", "[generator]") {
  run_test(errors_come_out_of_next());
}

aio::async_generator<std::unique_ptr<int>> boxes(int n) {
  for (int i = 0; i < n; ++i) co_yield std::make_unique<int>(i);
}

aio::async_generator<std::string> lvalues() {
  std::string s = "copy me";
  co_yield s;  // an lvalue is copied
  co_yield s;
}

aio::task<> move_only_and_lvalues() {
  auto gen = boxes(3);
  int expected = 0;
  while (auto b = co_await gen.next()) CHECK(**b == expected++);
  CHECK(expected == 3);
  auto strs = lvalues();
  auto a = co_await strs.next();
  auto b = co_await strs.next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == "copy me");
  CHECK(*b == "copy me");
}

TEST_CASE("async_generator: move-only values and lvalue yields", "[generator]") { run_test(move_only_and_lvalues()); }

// --- cancellation --------------------------------------------------------------

aio::async_generator<int> slow_with_cleanup(log_t& log) {
  try {
    co_yield 0;
    co_await aio::sleep(10s);
    co_yield 1;
  } catch (const aio::cancelled_error&) {
    log.push_back("generator saw cancel");
    throw;
  }
}

aio::task<> consume_slow(log_t& log) {
  auto gen = slow_with_cleanup(log);
  try {
    while (auto v = co_await gen.next()) log.push_back("got " + std::to_string(*v));
  } catch (const aio::cancelled_error&) {
    log.push_back("consumer saw cancel");
    CHECK(gen.done());
    throw;
  }
}

aio::task<> cancel_reaches_the_generator() {
  log_t log;
  auto consumer = aio::create_task(consume_slow(log));
  co_await aio::sleep(1s);
  consumer.cancel();
  co_await aio::sleep(1s);
  CHECK(consumer.cancelled());
  CHECK(log == log_t{"got 0", "generator saw cancel", "consumer saw cancel"});
}

TEST_CASE("async_generator: cancelling the consumer reaches the await inside the generator", "[generator]") {
  run_test(cancel_reaches_the_generator());
}

aio::task<int> inner_work(aio::duration d) {
  co_await aio::sleep(d);
  co_return 5;
}

aio::async_generator<int> awaits_a_task() {
  co_yield co_await inner_work(1s);
  co_yield co_await inner_work(10s);
}

aio::task<> consume_task_gen(std::vector<int>& got) {
  auto gen = awaits_a_task();
  while (auto v = co_await gen.next()) got.push_back(*v);
}

aio::task<> cancel_inside_nested_task() {
  std::vector<int> got;
  auto consumer = aio::create_task(consume_task_gen(got));
  co_await aio::sleep(2s);
  consumer.cancel();
  co_await aio::sleep(0s);
  co_await aio::sleep(0s);
  CHECK(consumer.cancelled());
  CHECK(got == std::vector<int>{5});
  CHECK(now_seconds() == Approx(2.0));
}

TEST_CASE("async_generator: a task awaited inside the generator is reached by cancellation", "[generator]") {
  run_test(cancel_inside_nested_task());
}

aio::task<> next_on(aio::async_generator<int>& gen) { (void)co_await gen.next(); }

aio::task<> concurrent_next_is_an_error() {
  auto gen = ticks(3, 1s);
  auto first = aio::create_task(next_on(gen));
  co_await aio::sleep(100ms);  // first is suspended inside the generator
  bool threw = false;
  try {
    co_await next_on(gen);
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);
  co_await first;
}

TEST_CASE("async_generator: next() while another next() is pending throws", "[generator]") {
  run_test(concurrent_next_is_an_error());
}

// --- closing early -----------------------------------------------------------------

aio::async_generator<int> with_async_cleanup(log_t& log) {
  aio::test::counted alive{1};
  std::exception_ptr exit;
  try {
    for (int i = 0;; ++i) co_yield i;
  } catch (...) {
    exit = std::current_exception();
  }
  co_await aio::sleep(1s);  // cleanup may await
  log.push_back("cleaned up");
  std::rethrow_exception(exit);
}

aio::task<> aclose_runs_cleanup() {
  aio::test::counted::reset();
  log_t log;
  auto gen = with_async_cleanup(log);
  auto a = co_await gen.next();
  auto b = co_await gen.next();
  CHECK(*a == 0);
  CHECK(*b == 1);
  CHECK(aio::test::counted::alive == 1);
  co_await gen.aclose();
  CHECK(log == log_t{"cleaned up"});
  CHECK(now_seconds() == Approx(1.0));
  CHECK(gen.done());
  auto after = co_await gen.next();
  CHECK_FALSE(after);
  co_await gen.aclose();  // harmless when done
  // Never started: aclose does not run the body at all.
  auto fresh = with_async_cleanup(log);
  co_await fresh.aclose();
  CHECK(fresh.done());
  CHECK(log.size() == 1);
}

TEST_CASE("async_generator: aclose() unwinds the body at its yield, cleanup may await", "[generator]") {
  run_test(aclose_runs_cleanup());
}

aio::async_generator<int> ignores_close() {
  for (int i = 0;; ++i) {
    try {
      co_yield i;
    } catch (...) {
      // swallowed: keeps yielding (a bug aclose reports)
    }
  }
}

aio::task<> aclose_ignored() {
  auto gen = ignores_close();
  (void)co_await gen.next();
  bool threw = false;
  try {
    co_await gen.aclose();
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(gen.done());
}

TEST_CASE("async_generator: a body that yields again after aclose() is reported", "[generator]") {
  run_test(aclose_ignored());
}

aio::task<> destroy_suspended() {
  aio::test::counted::reset();
  log_t log;
  {
    auto gen = with_async_cleanup(log);
    (void)co_await gen.next();
    CHECK(aio::test::counted::alive == 1);
  }
  CHECK(aio::test::counted::alive == 0);  // the frame's locals are destroyed...
  CHECK(log.empty());                     // ...but no code after the co_yield runs
}

TEST_CASE("async_generator: destroying a suspended generator destroys its frame", "[generator]") {
  run_test(destroy_suspended());
}

// --- for_each ----------------------------------------------------------------------

aio::task<> for_each_plain_and_async() {
  log_t log;
  std::vector<int> got;
  auto collect = [&got](int v) { got.push_back(v); };
  co_await aio::for_each(count_to(3, log), collect);
  CHECK(got == std::vector<int>{1, 2, 3});
  auto slow = [](int) -> aio::task<> { co_await aio::sleep(1s); };
  co_await aio::for_each(count_to(3, log), slow);
  CHECK(now_seconds() == Approx(3.0));
}

TEST_CASE("for_each: plain and coroutine callbacks", "[generator]") { run_test(for_each_plain_and_async()); }

aio::task<> for_each_closes_on_error() {
  aio::test::counted::reset();
  log_t log;
  auto fail_at_two = [](int v) {
    if (v == 2) throw std::runtime_error("consumer failed");
  };
  std::string error;
  try {
    co_await aio::for_each(with_async_cleanup(log), fail_at_two);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK(error == "consumer failed");
  CHECK(log == log_t{"cleaned up"});  // the generator was closed, cleanup included
  CHECK(aio::test::counted::alive == 0);
}

TEST_CASE("for_each: an error in the callback closes the generator", "[generator]") {
  run_test(for_each_closes_on_error());
}

}  // namespace
