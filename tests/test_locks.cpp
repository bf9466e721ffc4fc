#include <aio/locks.hpp>

#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/catch2.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using aio::test::now_seconds;

// --- static checks -----------------------------------------------------------

static_assert(!std::is_copy_constructible_v<aio::lock> && !std::is_move_constructible_v<aio::lock>);
static_assert(std::is_nothrow_move_constructible_v<aio::lock::guard> && !std::is_copy_constructible_v<aio::lock::guard>);
static_assert(std::is_nothrow_move_constructible_v<aio::semaphore::permit> &&
              !std::is_copy_constructible_v<aio::semaphore::permit>);
static_assert(std::is_same_v<decltype(std::declval<aio::lock&>().acquire()), aio::lock::acquire_operation>);
static_assert(std::is_same_v<decltype(std::declval<aio::lock::acquire_operation&>().await_resume()), aio::lock::guard>);
static_assert(std::is_same_v<decltype(std::declval<aio::lock&>().try_acquire()), aio::lock::guard>);
static_assert(std::is_same_v<decltype(std::declval<aio::semaphore::acquire_operation&>().await_resume()),
                             aio::semaphore::permit>);
static_assert(std::is_same_v<decltype(std::declval<aio::event::wait_operation&>().await_resume()), void>);
static_assert(std::is_same_v<decltype(std::declval<aio::condition&>().wait()), aio::task<>>);
static_assert(std::is_same_v<decltype(std::declval<aio::condition&>().wait_for([] { return 1; })), aio::task<int>>);
static_assert(std::is_same_v<decltype(std::declval<aio::barrier&>().wait()), aio::task<std::size_t>>);
static_assert(std::is_base_of_v<aio::semaphore, aio::bounded_semaphore>);
static_assert(std::is_base_of_v<std::exception, aio::broken_barrier_error>);

namespace {

using log_t = std::vector<std::string>;

bool is_cancelled(aio::future<void>& f) { return f.done() && f.cancelled(); }

// --- lock --------------------------------------------------------------------

aio::task<> hold_lock(aio::lock& l, log_t& log, std::string name, aio::duration d) {
  auto guard = co_await l.acquire();
  log.push_back(name);
  co_await aio::sleep(d);
}

AIO_TEST_CASE("lock: acquire, try_acquire, guard release and move", "[locks]") {
  aio::lock l;
  CHECK_FALSE(l.locked());
  {
    auto guard = co_await l.acquire();  // free: no suspension
    CHECK(guard.owns_lock());
    CHECK(l.locked());
    auto second = l.try_acquire();
    CHECK_FALSE(second);
  }
  CHECK_FALSE(l.locked());
  {
    auto g = l.try_acquire();
    REQUIRE(g);
    CHECK(l.locked());
    auto moved = std::move(g);
    CHECK_FALSE(g);
    CHECK(moved);
    CHECK(l.locked());
    moved.release();
    CHECK_FALSE(l.locked());
    moved.release();  // idempotent
    CHECK_FALSE(l.locked());
  }
  CHECK_THROWS_AS(l.release(), aio::invalid_state_error);
  auto g = co_await l.acquire();
  g = aio::lock::guard{};  // assigning releases
  CHECK_FALSE(l.locked());
}

AIO_TEST_CASE("lock: waiters are served FIFO; release wakes through the loop", "[locks]") {
  aio::lock l;
  log_t log;
  auto guard = co_await l.acquire();
  std::vector<aio::future<void>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(aio::create_task(hold_lock(l, log, std::to_string(i), 1s)));
  co_await aio::sleep(10ms);  // all five are waiting, in creation order
  CHECK(log.empty());
  guard.release();
  CHECK(l.locked());  // handed to the first waiter, not freed
  CHECK(log.empty()); // and the waiter is only scheduled, not resumed inline
  co_await aio::gather(std::move(tasks));
  CHECK(log == log_t{"0", "1", "2", "3", "4"});
  CHECK(now_seconds() == Approx(5.01));
  CHECK_FALSE(l.locked());
}

aio::task<> grab_and_log(aio::lock& l, log_t& log, std::string name) {
  auto guard = co_await l.acquire();
  log.push_back(name);
}

AIO_TEST_CASE("lock: no barging: a released lock goes to the first waiter", "[locks]") {
  aio::lock l;
  log_t log;
  auto guard = co_await l.acquire();
  auto waiter = aio::create_task(grab_and_log(l, log, "waiter"));
  co_await aio::sleep(1s);
  guard.release();
  // The lock is on its way to the waiter: a newcomer can neither take it...
  CHECK_FALSE(l.try_acquire());
  // ...nor overtake the waiter by queueing now.
  auto newcomer = aio::create_task(grab_and_log(l, log, "newcomer"));
  co_await aio::gather(waiter, newcomer);
  CHECK(log == log_t{"waiter", "newcomer"});
}

AIO_TEST_CASE("lock: a waiter cancelled while waiting leaves the line", "[locks]") {
  aio::lock l;
  log_t log;
  auto guard = co_await l.acquire();
  auto a = aio::create_task(grab_and_log(l, log, "a"));
  auto b = aio::create_task(grab_and_log(l, log, "b"));
  auto c = aio::create_task(grab_and_log(l, log, "c"));
  co_await aio::sleep(1s);
  CHECK(b.cancel());
  co_await aio::sleep(1s);
  CHECK(is_cancelled(b));  // left the line while waiting
  guard.release();
  co_await aio::gather(a, c);
  CHECK(log == log_t{"a", "c"});
  CHECK_FALSE(l.locked());
}

AIO_TEST_CASE("lock: a lock handed to a task cancelled before it runs passes on", "[locks]") {
  aio::lock l;
  log_t log;
  auto guard = co_await l.acquire();
  auto w = aio::create_task(grab_and_log(l, log, "w"));
  auto next = aio::create_task(grab_and_log(l, log, "next"));
  co_await aio::sleep(1s);
  guard.release();  // hands the lock to w and schedules it...
  CHECK(w.cancel()); // ...which is cancelled before it runs
  co_await aio::sleep(1s);
  CHECK(is_cancelled(w));
  CHECK(next.done());
  CHECK(log == log_t{"next"});  // the lock was passed on, not lost
  CHECK_FALSE(l.locked());
}

AIO_TEST_CASE("lock: a lock handed to a cancelled task with no one behind is freed", "[locks]") {
  aio::lock l;
  log_t log;
  auto guard = co_await l.acquire();
  auto w = aio::create_task(grab_and_log(l, log, "w"));
  co_await aio::sleep(1s);
  guard.release();
  w.cancel();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(w));
  CHECK_FALSE(l.locked());  // given back: free again
  auto g = l.try_acquire();
  CHECK(g);
}

// --- event -------------------------------------------------------------------

aio::task<> wait_event(aio::event& e, log_t& log, std::string name) {
  co_await e.wait();
  log.push_back(name);
}

AIO_TEST_CASE("event: set wakes every waiter; clear; wait on a set event", "[locks]") {
  aio::event e;
  log_t log;
  CHECK_FALSE(e.is_set());
  std::vector<aio::future<void>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(aio::create_task(wait_event(e, log, std::to_string(i))));
  co_await aio::sleep(1s);
  CHECK(log.empty());
  e.set();
  CHECK(e.is_set());
  CHECK(log.empty());  // scheduled, not resumed inline
  co_await aio::gather(std::move(waiters));
  CHECK(log == log_t{"0", "1", "2"});  // every waiter, FIFO
  CHECK(now_seconds() == Approx(1.0));
  co_await e.wait();  // set: returns at once
  e.set();            // idempotent
  e.clear();
  CHECK_FALSE(e.is_set());
  auto late = aio::create_task(wait_event(e, log, "late"));
  co_await aio::sleep(1s);
  CHECK_FALSE(late.done());
  e.set();
  co_await late;
  CHECK(log.back() == "late");
}

AIO_TEST_CASE("event: cancelling wait, before and after set", "[locks]") {
  aio::event e;
  log_t log;
  auto a = aio::create_task(wait_event(e, log, "a"));
  auto b = aio::create_task(wait_event(e, log, "b"));
  auto c = aio::create_task(wait_event(e, log, "c"));
  co_await aio::sleep(1s);
  a.cancel();  // while waiting
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  e.set();
  b.cancel();  // woken but not yet run
  co_await aio::sleep(1s);
  CHECK(is_cancelled(b));
  CHECK(c.done());
  CHECK(log == log_t{"c"});
}

// --- condition ---------------------------------------------------------------

aio::task<> cond_waiter(aio::condition& c, log_t& log, std::string name) {
  auto guard = co_await c.acquire();
  co_await c.wait();
  CHECK(c.locked());
  log.push_back(name);
}

AIO_TEST_CASE("condition: notify(n), notify_all, FIFO, lock held on return", "[locks]") {
  aio::condition c;
  log_t log;
  std::vector<aio::future<void>> ws;
  for (int i = 0; i < 4; ++i) ws.push_back(aio::create_task(cond_waiter(c, log, std::to_string(i))));
  co_await aio::sleep(1s);
  CHECK_FALSE(c.locked());  // each waiter released the lock in wait()
  CHECK_THROWS_AS(c.notify(), aio::invalid_state_error);
  {
    auto guard = co_await c.acquire();
    c.notify();
    co_await aio::sleep(1s);  // the woken waiter needs the lock we still hold
    CHECK(log.empty());
  }
  co_await aio::sleep(1s);
  CHECK(log == log_t{"0"});
  {
    auto guard = co_await c.acquire();
    c.notify(2);
  }
  co_await aio::sleep(1s);
  CHECK(log == log_t{"0", "1", "2"});
  {
    auto guard = co_await c.acquire();
    c.notify_all();
  }
  co_await aio::gather(std::move(ws));
  CHECK(log == log_t{"0", "1", "2", "3"});
  CHECK_THROWS_AS(c.notify_all(), aio::invalid_state_error);
}

aio::task<> wait_without_lock(aio::condition& c) { co_await c.wait(); }

AIO_TEST_CASE("condition: wait without the lock throws", "[locks]") {
  aio::condition c;
  // (never co_await inside a Catch macro: g++ evaluates the operand more than once)
  bool threw = false;
  try {
    co_await wait_without_lock(c);
  } catch (const aio::invalid_state_error&) {
    threw = true;
  }
  CHECK(threw);
}

struct shared_count {
  int value = 0;
  int checks = 0;
};

aio::task<int> wait_for_five(aio::condition& c, shared_count& s) {
  auto guard = co_await c.acquire();
  auto at_least_five = [&s] {
    ++s.checks;
    return s.value >= 5 ? s.value : 0;
  };
  int v = co_await c.wait_for(at_least_five);
  CHECK(c.locked());
  co_return v;
}

AIO_TEST_CASE("condition: wait_for rechecks the predicate after each wake-up", "[locks]") {
  aio::condition c;
  shared_count s;
  auto w = aio::create_task(wait_for_five(c, s));
  co_await aio::sleep(1s);
  CHECK(s.checks == 1);
  for (int i = 1; i <= 6; ++i) {
    auto guard = co_await c.acquire();
    s.value = i;
    c.notify_all();
    guard.release();
    co_await aio::sleep(1s);
    if (i < 5) CHECK_FALSE(w.done());
  }
  CHECK(w.done());
  CHECK(w.result() == 5);
  CHECK(s.checks == 6);  // once up front, then after each of the five notifications
  // A predicate already true returns without waiting.
  s.value = 7;
  const int v = co_await wait_for_five(c, s);
  CHECK(v == 7);
}

aio::task<> wait_for_five_logged(aio::condition& c, shared_count& s, log_t& log) {
  auto guard = co_await c.acquire();
  auto at_least_five = [&s] { return s.value >= 5; };
  try {
    co_await c.wait_for(at_least_five);
  } catch (const aio::cancelled_error&) {
    log.push_back(c.locked() ? "cancelled, locked" : "cancelled, NOT locked");
    throw;
  }
}

AIO_TEST_CASE("condition: cancelling wait_for", "[locks]") {
  aio::condition c;
  shared_count s;
  log_t log;
  auto w = aio::create_task(wait_for_five_logged(c, s, log));
  co_await aio::sleep(1s);
  w.cancel();
  co_await aio::sleep(1s);
  CHECK(w.cancelled());
  CHECK(log == log_t{"cancelled, locked"});
  CHECK_FALSE(c.locked());  // the guard in w released it
}

aio::task<> cond_waiter_cancel_aware(aio::condition& c, log_t& log, std::string name) {
  auto guard = co_await c.acquire();
  try {
    co_await c.wait();
    log.push_back(name);
  } catch (const aio::cancelled_error&) {
    // The lock is held again before the cancellation arrives here.
    log.push_back(name + (c.locked() && guard.owns_lock() ? " cancelled, locked" : " cancelled, NOT locked"));
    throw;
  }
}

AIO_TEST_CASE("condition: cancellation re-acquires the lock; a handed notification passes on", "[locks]") {
  aio::condition c;
  log_t log;
  auto a = aio::create_task(cond_waiter_cancel_aware(c, log, "a"));
  auto b = aio::create_task(cond_waiter_cancel_aware(c, log, "b"));
  auto d = aio::create_task(cond_waiter_cancel_aware(c, log, "d"));
  co_await aio::sleep(1s);
  // Cancelled while waiting for a notification, with the lock held by us:
  // it must re-acquire the lock before the error propagates.
  auto guard = co_await c.acquire();
  a.cancel();
  co_await aio::sleep(1s);
  CHECK_FALSE(a.done());  // blocked re-acquiring
  CHECK(log.empty());
  // The notification handed to b is passed on to d when b is cancelled before it runs.
  c.notify();
  b.cancel();
  guard.release();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(is_cancelled(b));
  CHECK(d.done());
  CHECK(log == log_t{"a cancelled, locked", "b cancelled, locked", "d"});
  CHECK_FALSE(c.locked());
}

AIO_TEST_CASE("condition: cancelled while re-acquiring the lock", "[locks]") {
  aio::condition c;
  log_t log;
  auto a = aio::create_task(cond_waiter_cancel_aware(c, log, "a"));
  co_await aio::sleep(1s);
  auto guard = co_await c.acquire();
  c.notify();
  co_await aio::sleep(1s);  // a was notified and now waits for the lock
  a.cancel();               // cancelled while re-acquiring: still gets the lock first
  co_await aio::sleep(1s);
  CHECK_FALSE(a.done());
  guard.release();
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(log == log_t{"a cancelled, locked"});
  CHECK_FALSE(c.locked());
}

AIO_TEST_CASE("condition: conditions can share a lock", "[locks]") {
  aio::lock l;
  aio::condition c1{l};
  aio::condition c2{l};
  auto g = co_await c1.acquire();
  CHECK(l.locked());
  CHECK(c2.locked());
  g.release();
  CHECK_FALSE(c2.locked());
}

// --- semaphore ---------------------------------------------------------------

struct concurrency {
  int now = 0;
  int max = 0;
};

aio::task<> limited_worker(aio::semaphore& s, concurrency& c, log_t& log, int id) {
  auto permit = co_await s.acquire();
  log.push_back("start " + std::to_string(id));
  c.max = std::max(c.max, ++c.now);
  co_await aio::sleep(1s);
  --c.now;
}

AIO_TEST_CASE("semaphore: 10 workers, 3 at a time, FIFO, about 4 s", "[locks]") {
  aio::semaphore s{3};
  concurrency c;
  log_t log;
  std::vector<aio::task<>> workers;
  for (int i = 0; i < 10; ++i) workers.push_back(limited_worker(s, c, log, i));
  co_await aio::gather(std::move(workers));
  CHECK(c.max == 3);
  CHECK(now_seconds() == Approx(4.0));  // ceil(10 / 3) rounds of one second
  log_t expected;
  for (int i = 0; i < 10; ++i) expected.push_back("start " + std::to_string(i));
  CHECK(log == expected);  // FIFO
  CHECK(s.value() == 3);
}

aio::task<> take_permit(aio::semaphore& s, log_t& log, std::string name) {
  auto p = co_await s.acquire();
  log.push_back(name);
}

AIO_TEST_CASE("semaphore: permits, try_acquire, value, locked, release", "[locks]") {
  aio::semaphore s{2};
  CHECK(s.value() == 2);
  CHECK_FALSE(s.locked());
  auto p1 = co_await s.acquire();
  auto p2 = s.try_acquire();
  CHECK(p1);
  CHECK(p2);
  CHECK(s.locked());
  CHECK(s.value() == 0);
  CHECK_FALSE(s.try_acquire());
  log_t log;
  auto w = aio::create_task(take_permit(s, log, "w"));
  co_await aio::sleep(1s);
  p1.release();
  CHECK(s.value() == 0);           // handed to the waiter
  CHECK_FALSE(s.try_acquire());    // no barging
  co_await w;
  CHECK(s.value() == 1);
  s.release();  // plain semaphores may go above their initial value
  CHECK(s.value() == 2);
  p2 = aio::semaphore::permit{};
  CHECK(s.value() == 3);
  CHECK_THROWS_AS(aio::semaphore{-1}, aio::value_error);
  aio::semaphore zero{0};
  CHECK(zero.locked());
}

AIO_TEST_CASE("semaphore: cancelled waiters, and a handed permit passes on", "[locks]") {
  aio::semaphore s{1};
  log_t log;
  auto p = co_await s.acquire();
  auto a = aio::create_task(take_permit(s, log, "a"));
  auto b = aio::create_task(take_permit(s, log, "b"));
  auto c = aio::create_task(take_permit(s, log, "c"));
  co_await aio::sleep(1s);
  b.cancel();  // while waiting
  co_await aio::sleep(1s);
  CHECK(is_cancelled(b));
  p.release();  // handed to a...
  a.cancel();   // ...cancelled before it runs: the permit goes to c
  co_await aio::sleep(1s);
  CHECK(is_cancelled(a));
  CHECK(c.done());
  CHECK(log == log_t{"c"});
  CHECK(s.value() == 1);
}

AIO_TEST_CASE("bounded_semaphore: release beyond the initial value throws value_error", "[locks]") {
  aio::bounded_semaphore s{2};
  CHECK_THROWS_AS(s.release(), aio::value_error);
  {
    auto p = co_await s.acquire();
    CHECK(s.value() == 1);
    s.release();  // fine: one permit was out
    CHECK(s.value() == 2);
    CHECK_THROWS_AS(s.release(), aio::value_error);
    p = aio::semaphore::permit{};  // the guard's own release is noexcept and unchecked
  }
  CHECK(s.value() == 3);
  CHECK_THROWS_AS(s.release(), aio::value_error);
}

// --- barrier -----------------------------------------------------------------

aio::task<> arrive(aio::barrier& b, std::vector<std::size_t>& indices, std::vector<double>& times) {
  indices.push_back(co_await b.wait());
  times.push_back(now_seconds());
}

aio::task<> arrive_after(aio::barrier& b, std::vector<std::size_t>& indices, std::vector<double>& times,
                         aio::duration d) {
  co_await aio::sleep(d);
  co_await arrive(b, indices, times);
}

AIO_TEST_CASE("barrier: parties wait for each other; indices; reusable", "[locks]") {
  aio::barrier b{3};
  CHECK(b.parties() == 3);
  CHECK(b.n_waiting() == 0);
  CHECK_FALSE(b.broken());
  std::vector<std::size_t> indices;
  std::vector<double> times;
  for (int round = 0; round < 2; ++round) {  // cyclic
    indices.clear();
    times.clear();
    auto t1 = aio::create_task(arrive_after(b, indices, times, 1s));
    auto t2 = aio::create_task(arrive_after(b, indices, times, 2s));
    co_await aio::sleep(2500ms);
    CHECK(b.n_waiting() == 2);
    auto t3 = aio::create_task(arrive_after(b, indices, times, 500ms));
    co_await aio::gather(t1, t2, t3);
    std::sort(indices.begin(), indices.end());
    CHECK(indices == std::vector<std::size_t>{0, 1, 2});
    REQUIRE(times.size() == 3);
    CHECK(times[0] == times[2]);  // everyone leaves when the last arrives
    CHECK(b.n_waiting() == 0);
  }
  CHECK_THROWS_AS(aio::barrier{0}, aio::value_error);
}

aio::task<> arrive_expect_broken(aio::barrier& b, int& broken) {
  try {
    co_await b.wait();
  } catch (const aio::broken_barrier_error&) {
    ++broken;
  }
}

AIO_TEST_CASE("barrier: abort and reset break the waiters", "[locks]") {
  aio::barrier b{3};
  int broken = 0;
  auto t1 = aio::create_task(arrive_expect_broken(b, broken));
  auto t2 = aio::create_task(arrive_expect_broken(b, broken));
  co_await aio::sleep(1s);
  co_await b.abort();
  CHECK(b.broken());
  co_await aio::gather(t1, t2);
  CHECK(broken == 2);
  co_await arrive_expect_broken(b, broken);  // stays broken
  CHECK(broken == 3);
  co_await b.reset();
  CHECK_FALSE(b.broken());
  // reset while tasks wait: they get broken_barrier_error, the barrier refills.
  auto t3 = aio::create_task(arrive_expect_broken(b, broken));
  co_await aio::sleep(1s);
  CHECK(b.n_waiting() == 1);
  co_await b.reset();
  co_await t3;
  CHECK(broken == 4);
  CHECK(b.n_waiting() == 0);
  std::vector<std::size_t> indices;
  std::vector<double> times;
  co_await aio::gather(arrive(b, indices, times), arrive(b, indices, times), arrive(b, indices, times));
  CHECK(indices.size() == 3);
}

AIO_TEST_CASE("barrier: a cancelled waiter leaves the barrier", "[locks]") {
  aio::barrier b{2};
  std::vector<std::size_t> indices;
  std::vector<double> times;
  auto t1 = aio::create_task(arrive(b, indices, times));
  co_await aio::sleep(1s);
  CHECK(b.n_waiting() == 1);
  t1.cancel();
  co_await aio::sleep(1s);
  CHECK(t1.cancelled());
  CHECK(b.n_waiting() == 0);  // the cancelled task left the barrier
  auto t2 = aio::create_task(arrive(b, indices, times));
  auto t3 = aio::create_task(arrive(b, indices, times));
  co_await aio::gather(t2, t3);
  CHECK(indices.size() == 2);
}

aio::task<> wait_then_log(aio::barrier& b, log_t& log, std::string name) {
  co_await b.wait();
  log.push_back(name);
}

AIO_TEST_CASE("barrier: a new cycle starts only after the previous drained", "[locks]") {
  aio::barrier b{2};
  log_t log;
  auto a = aio::create_task(wait_then_log(b, log, "a"));
  co_await aio::sleep(1s);
  // c arrives at the same moment as b completes the first cycle: it waits
  // for the next cycle instead of slipping into this one.
  auto bb = aio::create_task(wait_then_log(b, log, "b"));
  auto c = aio::create_task(wait_then_log(b, log, "c"));
  co_await aio::sleep(1s);
  CHECK(a.done());
  CHECK(bb.done());
  CHECK_FALSE(c.done());
  CHECK(b.n_waiting() == 1);
  auto d = aio::create_task(wait_then_log(b, log, "d"));
  co_await aio::gather(c, d);
  CHECK(log.size() == 4);
}

// --- a primitive destroyed before its waiters ---------------------------------

AIO_TEST_CASE("event: destroyed while a task waits; the waiter can still be cancelled", "[locks]") {
  auto e = std::make_unique<aio::event>();
  log_t log;
  auto w = aio::create_task(wait_event(*e, log, "w"));
  co_await aio::sleep(1s);
  e.reset();  // detaches the waiter (a misuse, but it must not crash)...
  w.cancel(); // ...which can still be cancelled
  co_await aio::sleep(1s);
  CHECK(is_cancelled(w));
  CHECK(log.empty());
}

}  // namespace
