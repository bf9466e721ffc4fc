#include <aio/queues.hpp>

#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/catch2.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using aio::test::now_seconds;

// --- static checks -----------------------------------------------------------

static_assert(std::is_same_v<decltype(std::declval<aio::queue<int>&>().get().await_resume()), int>);
static_assert(std::is_same_v<decltype(std::declval<aio::queue<int>&>().put(1).await_resume()), void>);
static_assert(std::is_same_v<decltype(std::declval<aio::queue<int>&>().get_nowait()), int>);
static_assert(std::is_same_v<decltype(std::declval<aio::queue<int>&>().try_get()), std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<aio::queue<int>&>().try_put(1)), bool>);
static_assert(std::is_same_v<decltype(std::declval<aio::queue<std::unique_ptr<int>>&>().get().await_resume()),
                             std::unique_ptr<int>>);
static_assert(std::is_same_v<aio::priority_queue<int>::value_type, int>);
static_assert(std::is_base_of_v<std::exception, aio::queue_empty>);
static_assert(std::is_base_of_v<std::exception, aio::queue_full>);
static_assert(std::is_base_of_v<std::exception, aio::queue_shut_down>);
static_assert(!std::is_copy_constructible_v<aio::queue<int>>);

// Counts allocations, to check that a bounded queue allocates nothing per item
// once warm (operator new is replaced for this test program only).
namespace {
long allocations = 0;
}
// The whole family is replaced, so that every new pairs with its delete (ASan
// checks); the over-aligned forms are left alone, consistently.
// HACK: with these replacements inlined, g++ 12 at -O2 pairs a malloc it can
// see with a `delete` it cannot and warns -Wmismatched-new-delete; they match.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using log_t = std::vector<std::string>;

bool is_cancelled(aio::future<void>& f) { return f.done() && f.cancelled(); }

aio::task<> get_into(aio::queue<int>& q, log_t& log, std::string name) {
  const int v = co_await q.get();
  log.push_back(name + ":" + std::to_string(v));
}

aio::task<> put_logged(aio::queue<int>& q, log_t& log, int v) {
  co_await q.put(v);
  log.push_back("put " + std::to_string(v));
}

template <class Q>
aio::task<> expect_shut_down_get(Q& q, int& count) {
  try {
    (void)co_await q.get();
  } catch (const aio::queue_shut_down&) {
    ++count;
  }
}

aio::task<> expect_shut_down_put(aio::queue<int>& q, int v, int& count) {
  try {
    co_await q.put(v);
  } catch (const aio::queue_shut_down&) {
    ++count;
  }
}

// --- basics ------------------------------------------------------------------

AIO_TEST_CASE("queue: FIFO order, nowait and try variants, sizes", "[queues]") {
  aio::queue<int> q{3};
  CHECK(q.maxsize() == 3);
  CHECK(q.empty());
  CHECK_FALSE(q.full());
  co_await q.put(1);  // room: no suspension
  q.put_nowait(2);
  CHECK(q.try_put(3));
  CHECK(q.full());
  CHECK(q.qsize() == 3);
  CHECK_FALSE(q.try_put(4));
  CHECK_THROWS_AS(q.put_nowait(4), aio::queue_full);
  // (never co_await inside a Catch macro: g++ evaluates the operand more than once)
  const int first = co_await q.get();
  CHECK(first == 1);
  CHECK(q.get_nowait() == 2);
  CHECK(q.try_get() == std::optional<int>{3});
  CHECK(q.empty());
  CHECK_FALSE(q.try_get());
  CHECK_THROWS_AS(q.get_nowait(), aio::queue_empty);
  CHECK(now_seconds() == 0.0);

  aio::queue<int> unbounded;
  CHECK(unbounded.maxsize() == 0);
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  CHECK_FALSE(unbounded.full());
  CHECK(unbounded.qsize() == 1000);
  bool in_order = true;
  for (int i = 0; i < 1000; ++i) in_order = in_order && unbounded.get_nowait() == i;
  CHECK(in_order);
}

AIO_TEST_CASE("priority_queue is smallest first; lifo_queue is last in first out", "[queues]") {
  aio::priority_queue<int> pq;
  for (int v : {5, 1, 4, 2, 3}) pq.put_nowait(v);
  std::vector<int> out;
  while (!pq.empty()) out.push_back(co_await pq.get());
  CHECK(out == std::vector<int>{1, 2, 3, 4, 5});  // smallest first, like heapq

  aio::priority_queue<std::pair<int, std::string>> jobs;
  jobs.put_nowait({2, "write"});
  jobs.put_nowait({0, "urgent"});
  jobs.put_nowait({1, "read"});
  CHECK(jobs.get_nowait().second == "urgent");
  CHECK(jobs.get_nowait().second == "read");

  aio::priority_queue<int, std::greater<int>> largest_first;
  for (int v : {2, 9, 4}) largest_first.put_nowait(v);
  CHECK(largest_first.get_nowait() == 9);

  aio::lifo_queue<int> lq{2};
  co_await lq.put(1);
  co_await lq.put(2);
  CHECK(lq.full());
  CHECK(lq.get_nowait() == 2);
  lq.put_nowait(3);
  const int three = co_await lq.get();
  const int one = co_await lq.get();
  CHECK(three == 3);
  CHECK(one == 1);
}

AIO_TEST_CASE("queue: move-only items", "[queues]") {
  aio::queue<std::unique_ptr<int>> q{1};
  co_await q.put(std::make_unique<int>(1));
  auto keep = std::make_unique<int>(2);
  CHECK_FALSE(q.try_put(std::move(keep)));
  REQUIRE(keep);  // a failed try_put leaves the item with the caller
  CHECK(*keep == 2);
  auto one = co_await q.get();
  CHECK(*one == 1);
  CHECK(q.try_put(std::move(keep)));
  CHECK_FALSE(keep);
  auto two = q.try_get();
  REQUIRE(two);
  CHECK(**two == 2);

  struct by_value {
    bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const { return *a < *b; }
  };
  aio::priority_queue<std::unique_ptr<int>, by_value> pq;
  for (int v : {3, 1, 2}) pq.put_nowait(std::make_unique<int>(v));
  CHECK(*pq.get_nowait() == 1);
  auto second = co_await pq.get();
  CHECK(*second == 2);
  aio::lifo_queue<std::unique_ptr<int>> lq;
  lq.put_nowait(std::make_unique<int>(7));
  CHECK(*lq.get_nowait() == 7);
}

AIO_TEST_CASE("queue: items left in a destroyed queue are destroyed", "[queues]") {
  aio::test::counted::reset();
  {
    aio::queue<aio::test::counted> q{4};
    for (int i = 0; i < 4; ++i) q.put_nowait(aio::test::counted{i});
    CHECK(q.get_nowait().value == 0);
    CHECK(aio::test::counted::alive == 3);
  }
  CHECK(aio::test::counted::alive == 0);
  co_return;
}

// --- waiting: back-pressure and fairness ---------------------------------------

aio::task<> slow_producer_fast_puts(aio::queue<int>& q, std::vector<double>& put_times) {
  for (int i = 0; i < 6; ++i) {
    co_await q.put(i);
    put_times.push_back(now_seconds());
  }
}

aio::task<> slow_consumer(aio::queue<int>& q, std::vector<int>& got) {
  for (int i = 0; i < 6; ++i) {
    co_await aio::sleep(1s);
    got.push_back(co_await q.get());
  }
}

AIO_TEST_CASE("queue: a producer blocks at maxsize (back-pressure)", "[queues]") {
  aio::queue<int> q{2};
  std::vector<double> put_times;
  std::vector<int> got;
  co_await aio::gather(slow_producer_fast_puts(q, put_times), slow_consumer(q, got));
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5});
  // Two puts fit at once; each later put waits for the consumer's next get.
  CHECK(put_times == std::vector<double>{0, 0, 1, 2, 3, 4});
}

AIO_TEST_CASE("queue: waiting getters are served FIFO and not overtaken", "[queues]") {
  aio::queue<int> q;
  log_t log;
  auto a = aio::create_task(get_into(q, log, "a"));
  auto b = aio::create_task(get_into(q, log, "b"));
  auto c = aio::create_task(get_into(q, log, "c"));
  co_await aio::sleep(1s);
  q.put_nowait(1);
  CHECK(log.empty());          // handed over, not resumed inline
  CHECK(q.empty());            // the item went straight to a...
  CHECK_THROWS_AS(q.get_nowait(), aio::queue_empty);  // ...and cannot be taken by a newcomer
  q.put_nowait(2);
  q.put_nowait(3);
  co_await aio::gather(a, b, c);
  CHECK(log == log_t{"a:1", "b:2", "c:3"});
}

AIO_TEST_CASE("queue: waiting putters are served FIFO and not overtaken", "[queues]") {
  aio::queue<int> q{1};
  log_t log;
  q.put_nowait(0);
  auto a = aio::create_task(put_logged(q, log, 1));
  auto b = aio::create_task(put_logged(q, log, 2));
  auto c = aio::create_task(put_logged(q, log, 3));
  co_await aio::sleep(1s);
  CHECK(log.empty());
  CHECK(q.get_nowait() == 0);
  CHECK(q.full());  // the freed slot is reserved for a: a newcomer cannot take it
  CHECK_FALSE(q.try_put(99));
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
  CHECK(got == std::vector<int>{1, 2, 3});
  co_await aio::gather(a, b, c);
  CHECK(log == log_t{"put 1", "put 2", "put 3"});
}

AIO_TEST_CASE("queue: an item on its way to a getter counts for full()", "[queues]") {
  aio::queue<int> q{1};
  log_t log;
  auto a = aio::create_task(get_into(q, log, "a"));
  co_await aio::sleep(1s);
  q.put_nowait(1);  // on its way to a
  CHECK(q.qsize() == 0);
  CHECK(q.empty());
  CHECK(q.full());  // ...but it still takes the only slot until a runs
  CHECK_THROWS_AS(q.put_nowait(2), aio::queue_full);
  co_await a;
  CHECK_FALSE(q.full());
  CHECK(log == log_t{"a:1"});
}

// --- cancellation ------------------------------------------------------------

AIO_TEST_CASE("queue: a getter cancelled while waiting leaves the line", "[queues]") {
  aio::queue<int> q;
  log_t log;
  auto a = aio::create_task(get_into(q, log, "a"));
  auto b = aio::create_task(get_into(q, log, "b"));
  co_await aio::sleep(1s);
  a.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  q.put_nowait(7);
  co_await b;
  CHECK(log == log_t{"b:7"});
}

AIO_TEST_CASE("queue: an item handed to a getter cancelled before it runs goes to the next getter", "[queues]") {
  aio::queue<int> q;
  log_t log;
  auto a = aio::create_task(get_into(q, log, "a"));
  auto b = aio::create_task(get_into(q, log, "b"));
  co_await aio::sleep(1s);
  q.put_nowait(7);  // handed to a...
  a.cancel();       // ...cancelled before it runs: 7 goes to b
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(b.done());
  CHECK(log == log_t{"b:7"});
  CHECK(q.empty());
}

aio::task<> get_lifo(aio::lifo_queue<int>& q, log_t& log, std::string name) {
  const int v = co_await q.get();
  log.push_back(name + ":" + std::to_string(v));
}

AIO_TEST_CASE("lifo_queue: items given back by cancelled getters keep their place", "[queues]") {
  // As in asyncio, where the woken getter never took the item out: it is
  // older than whatever was pushed meanwhile, so it sits below it.
  aio::lifo_queue<int> q;
  log_t log;
  auto a = aio::create_task(get_lifo(q, log, "a"));
  auto b = aio::create_task(get_lifo(q, log, "b"));
  co_await aio::sleep(1s);
  q.put_nowait(1);  // to a
  q.put_nowait(2);  // to b
  q.put_nowait(3);  // stored
  a.cancel();
  b.cancel();
  co_await aio::sleep(1s);
  CHECK(q.get_nowait() == 3);
  CHECK(q.get_nowait() == 2);
  CHECK(q.get_nowait() == 1);
  CHECK(log.empty());
}

AIO_TEST_CASE("queue: an item handed to a cancelled getter returns to the front", "[queues]") {
  aio::queue<int> q{2};
  log_t log;
  auto a = aio::create_task(get_into(q, log, "a"));
  co_await aio::sleep(1s);
  q.put_nowait(1);  // handed to a
  q.put_nowait(2);  // stored
  CHECK(q.full());
  a.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(q.qsize() == 2);  // 1 came back, in front: nothing lost, order kept
  CHECK(q.get_nowait() == 1);
  CHECK(q.get_nowait() == 2);
  CHECK(q.empty());

  // Several items on their way, all given back: their order is kept.
  aio::queue<int> u;
  auto b = aio::create_task(get_into(u, log, "b"));
  auto c = aio::create_task(get_into(u, log, "c"));
  co_await aio::sleep(1s);
  u.put_nowait(3);  // to b
  u.put_nowait(4);  // to c
  b.cancel();
  c.cancel();
  u.put_nowait(5);  // stored behind them
  co_await aio::sleep(1s);
  CHECK(is_cancelled(b));
  CHECK(is_cancelled(c));
  CHECK(u.get_nowait() == 3);
  CHECK(u.get_nowait() == 4);
  CHECK(u.get_nowait() == 5);
  CHECK(log.empty());
}

AIO_TEST_CASE("queue: a putter cancelled while waiting puts nothing", "[queues]") {
  aio::queue<int> q{1};
  log_t log;
  q.put_nowait(0);
  auto a = aio::create_task(put_logged(q, log, 1));
  auto b = aio::create_task(put_logged(q, log, 2));
  co_await aio::sleep(1s);
  a.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(q.get_nowait() == 0);
  const int got = co_await q.get();
  CHECK(got == 2);  // a's item was never put
  co_await b;
  CHECK(log == log_t{"put 2"});
}

AIO_TEST_CASE("queue: a slot reserved for a putter cancelled before it runs passes on", "[queues]") {
  aio::queue<int> q{1};
  log_t log;
  q.put_nowait(0);
  auto a = aio::create_task(put_logged(q, log, 1));
  auto b = aio::create_task(put_logged(q, log, 2));
  co_await aio::sleep(1s);
  CHECK(q.get_nowait() == 0);  // the slot is reserved for a...
  a.cancel();                  // ...cancelled before it runs: the slot passes to b
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(b.done());
  CHECK(q.qsize() == 1);
  CHECK(q.get_nowait() == 2);
  CHECK(log == log_t{"put 2"});
  CHECK_FALSE(q.full());
}

AIO_TEST_CASE("queue: a reserved slot with no other putter is freed", "[queues]") {
  aio::queue<int> q{1};
  log_t log;
  q.put_nowait(0);
  auto a = aio::create_task(put_logged(q, log, 1));
  co_await aio::sleep(1s);
  CHECK(q.get_nowait() == 0);
  a.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(q.empty());
  CHECK_FALSE(q.full());  // the reservation was released
  CHECK(q.try_put(5));
}

// --- join and task_done --------------------------------------------------------

aio::task<> worker(aio::queue<int>& q, int& processed) {
  for (;;) {
    const int v = co_await q.get();
    co_await aio::sleep(std::chrono::seconds(v));
    ++processed;
    q.task_done();
  }
}

AIO_TEST_CASE("queue: join returns after task_done for every item; too many task_done throws", "[queues]") {
  aio::queue<int> q;
  co_await q.join();  // nothing put: returns at once
  CHECK_THROWS_AS(q.task_done(), aio::value_error);
  int processed = 0;
  auto w = aio::create_task(worker(q, processed));
  for (int v : {1, 2, 3}) q.put_nowait(v);
  co_await q.join();
  CHECK(processed == 3);
  CHECK(now_seconds() == Approx(6.0));
  CHECK_THROWS_AS(q.task_done(), aio::value_error);  // too many
  w.cancel();
  co_await aio::sleep(0s);
}

aio::task<> join_then_log(aio::queue<int>& q, log_t& log) {
  co_await q.join();
  log.push_back("joined");
}

AIO_TEST_CASE("queue: cancelling join", "[queues]") {
  aio::queue<int> q;
  log_t log;
  q.put_nowait(1);
  auto j1 = aio::create_task(join_then_log(q, log));
  auto j2 = aio::create_task(join_then_log(q, log));
  co_await aio::sleep(1s);
  j1.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(j1));
  (void)q.get_nowait();
  q.task_done();
  co_await j2;
  CHECK(log == log_t{"joined"});
}

// --- shutdown (Python 3.13) ------------------------------------------------------

AIO_TEST_CASE("queue: shutdown wakes blocked putters and getters; gets drain first", "[queues]") {
  aio::queue<int> q{2};
  int shut = 0;
  // Blocked getters are woken with queue_shut_down.
  auto g1 = aio::create_task(expect_shut_down_get(q, shut));
  auto g2 = aio::create_task(expect_shut_down_get(q, shut));
  co_await aio::sleep(1s);
  q.shutdown();
  CHECK(q.is_shut_down());
  co_await aio::gather(g1, g2);
  CHECK(shut == 2);
  CHECK_THROWS_AS(q.put_nowait(1), aio::queue_shut_down);
  CHECK_FALSE(q.try_put(1));
  co_await expect_shut_down_put(q, 1, shut);
  CHECK(shut == 3);
  CHECK_THROWS_AS(q.get_nowait(), aio::queue_shut_down);

  // Items put before a graceful shutdown are still delivered; blocked putters
  // are woken with queue_shut_down.
  aio::queue<int> r{2};
  r.put_nowait(1);
  r.put_nowait(2);
  auto p = aio::create_task(expect_shut_down_put(r, 3, shut));
  co_await aio::sleep(1s);
  r.shutdown();
  co_await p;
  CHECK(shut == 4);
  const int one = co_await r.get();
  CHECK(one == 1);
  CHECK(r.get_nowait() == 2);
  co_await expect_shut_down_get(r, shut);
  CHECK(shut == 5);
  CHECK_FALSE(r.try_get());
}

AIO_TEST_CASE("queue: immediate shutdown drops items and releases join", "[queues]") {
  aio::queue<int> q;
  log_t log;
  int shut = 0;
  for (int v : {1, 2, 3}) q.put_nowait(v);
  CHECK(q.get_nowait() == 1);  // taken, not yet task_done
  auto j = aio::create_task(join_then_log(q, log));
  co_await aio::sleep(1s);
  q.shutdown(true);
  CHECK(q.empty());  // 2 and 3 dropped (and counted as done)
  co_await aio::sleep(0s);
  CHECK(log.empty());  // 1 is still unfinished
  q.task_done();
  co_await j;
  CHECK(log == log_t{"joined"});
  co_await expect_shut_down_get(q, shut);
  CHECK(shut == 1);

  // An item on its way to a getter is dropped too.
  aio::queue<int> r;
  auto g = aio::create_task(expect_shut_down_get(r, shut));
  co_await aio::sleep(1s);
  r.put_nowait(9);  // handed to g
  r.shutdown(true);
  co_await g;
  CHECK(shut == 2);
  co_await r.join();  // nothing unfinished: the dropped item counted as done
}

AIO_TEST_CASE("queue: a putter granted a slot before shutdown gets queue_shut_down", "[queues]") {
  aio::queue<int> q{1};
  int shut = 0;
  q.put_nowait(0);
  log_t log;
  auto a = aio::create_task(put_logged(q, log, 1));
  co_await aio::sleep(1s);
  CHECK(q.get_nowait() == 0);  // slot reserved for a
  q.shutdown();                // a resumes and finds the queue shut down
  auto b = aio::create_task(expect_shut_down_put(q, 2, shut));
  co_await aio::sleep(1s);
  CHECK(a.done());
  CHECK_THROWS_AS(a.result(), aio::queue_shut_down);
  CHECK(shut == 1);
  CHECK(q.empty());
}

// --- steady state allocates nothing --------------------------------------------

aio::task<> produce_n(aio::queue<int>& q, int n) {
  for (int i = 0; i < n; ++i) co_await q.put(i);
}

aio::task<> consume_n(aio::queue<int>& q, int n, long& sum, long& allocs_during) {
  for (int i = 0; i < n; ++i) {
    if (i == 100) allocs_during = allocations;  // warm: ring and ready queue at size
    sum += co_await q.get();
  }
  allocs_during = allocations - allocs_during;
}

AIO_TEST_CASE("queue: a bounded queue allocates nothing per put/get once warm", "[queues]") {
  aio::queue<int> q{4};
  long sum = 0;
  long allocs = -1;
  const int n = 5000;
  co_await aio::gather(produce_n(q, n), consume_n(q, n, sum, allocs));
  CHECK(sum == static_cast<long>(n) * (n - 1) / 2);
  CHECK(allocs == 0);
  const long before = allocations;  // the counter does count
  auto probe = std::make_unique<int>(1);
  CHECK(allocations == before + 1);
}

}  // namespace
