// Tests for aio/future.hpp: plain futures (set_result / set_exception / cancel,
// many awaiters, done callbacks), the futures of tasks (names, cancelling /
// uncancel) and task cancellation with asyncio's semantics.
#include <aio/future.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/detail/current_context.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>

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

// --- static checks -----------------------------------------------------------

template <class T>
using future_await_t = decltype(std::declval<typename aio::future<T>::awaiter&>().await_resume());
template <class T>
using future_result_t = decltype(std::declval<const aio::future<T>&>().result());

static_assert(std::is_same_v<aio::future<>, aio::future<void>>);
static_assert(std::is_copy_constructible_v<aio::future<int>>, "a future is a copyable handle");
static_assert(std::is_copy_assignable_v<aio::future<int>>);
static_assert(std::is_nothrow_move_constructible_v<aio::future<int>>);
static_assert(std::is_copy_constructible_v<aio::future<std::unique_ptr<int>>>, "even for a move-only T");
static_assert(std::is_same_v<aio::future<int>::value_type, int>);
static_assert(std::is_same_v<future_await_t<int>, int>, "each awaiter gets a copy");
static_assert(std::is_same_v<future_await_t<void>, void>);
static_assert(std::is_same_v<future_await_t<std::unique_ptr<int>>, std::unique_ptr<int>>, "moved out once");
static_assert(std::is_same_v<future_result_t<int>, int&>, "result() refers into the shared state");
static_assert(std::is_same_v<future_result_t<void>, void>);
static_assert(std::is_same_v<decltype(std::declval<aio::future<int>&>().exception()), std::exception_ptr>);
static_assert(noexcept(std::declval<aio::future<int>&>().cancel()));
static_assert(noexcept(std::declval<aio::future<int>&>().done()));
static_assert(std::is_same_v<decltype(aio::create_task(std::declval<aio::task<int>>())), aio::future<int>>);
static_assert(std::is_same_v<decltype(std::declval<aio::outcome<int>&>().value()), int&>);
static_assert(std::is_same_v<decltype(std::declval<aio::outcome<int>&&>().value()), int>);
static_assert(!std::is_base_of_v<std::exception, aio::cancelled_error>,
              "a catch (const std::exception&) must not swallow a cancellation");
static_assert(std::is_base_of_v<std::logic_error, aio::invalid_state_error>);

namespace {

// What awaiting `f` gives: "value <v>", "cancelled" or "error: <what>".
template <class T>
aio::task<std::string> describe(aio::future<T> f) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await f;
      co_return "value";
    } else {
      auto v = co_await f;
      co_return "value " + std::to_string(v);
    }
  } catch (const aio::cancelled_error&) {
    co_return "cancelled";
  } catch (const std::exception& e) {
    co_return std::string("error: ") + e.what();
  }
}

aio::task<int> answer_after(aio::duration d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::task<void> count_runs(int* runs) {
  ++*runs;
  co_return;
}

aio::task<void> set_later(aio::future<int> f, aio::duration d, int v) {
  co_await aio::sleep(d);
  f.set_result(v);
}

// --- plain futures ----------------------------------------------------------------

aio::task<int> set_then_await() {
  aio::future<int> f;
  CHECK_FALSE(f.done());
  CHECK_FALSE(f.cancelled());
  f.set_result(21);
  CHECK(f.done());
  CHECK_FALSE(f.cancelled());
  CHECK(f.result() == 21);
  CHECK(f.exception() == nullptr);
  int runs = 0;
  aio::create_task(count_runs(&runs));
  int a = co_await f;  // done: not a suspension point, the other task has not run
  int b = co_await f;  // and again: each await gets a copy
  CHECK(runs == 0);
  co_return a + b;
}

aio::task<std::string> await_then_set() {
  aio::future<int> f = aio::get_running_loop().create_future<int>();
  aio::create_task(set_later(f, 2s, 9));
  int v = co_await f;
  co_return std::to_string(v) + "@" + std::to_string(now_seconds());
}

aio::task<int> one_of_many(aio::future<int> f, std::vector<int>* woke, int id) {
  int v = co_await f;
  woke->push_back(id);
  co_return v + id;
}

aio::task<std::vector<int>> awaited_by_many(std::vector<int>* woke) {
  aio::future<int> f;
  std::vector<aio::future<int>> waiters;
  for (int id = 1; id <= 3; ++id) waiters.push_back(aio::create_task(one_of_many(f, woke, id)));
  co_await aio::yield();  // all three start and suspend on f
  CHECK(woke->empty());
  f.set_result(10);
  CHECK(woke->empty());  // set_result schedules the waiters, it does not resume them
  co_await aio::yield();
  CHECK(*woke == std::vector<int>{1, 2, 3});  // woken in the order they started waiting
  co_return co_await aio::gather(std::move(waiters));
}

aio::task<int> shielded_one_of_many(aio::future<int>& f, std::vector<int>* woke, int id) {
  const int v = co_await aio::shield(f);
  woke->push_back(id);
  co_return v + id;
}
// The waiters' list is a ring without sentinel: leaving it as its first, a
// middle and its last element must keep the others in order.
aio::task<void> waiters_leave_from_anywhere(std::vector<int>* woke) {
  aio::future<int> f;
  std::vector<aio::future<int>> waiters;
  for (int id = 1; id <= 5; ++id) waiters.push_back(aio::create_task(shielded_one_of_many(f, woke, id)));
  co_await aio::yield();  // all five wait on f, in order
  for (int id : {1, 3, 5}) waiters[static_cast<std::size_t>(id - 1)].cancel();  // shielded: f stays pending
  co_await aio::yield();
  CHECK(!f.done());
  waiters.push_back(aio::create_task(shielded_one_of_many(f, woke, 6)));
  co_await aio::yield();
  f.set_result(10);
  co_await aio::yield();
  CHECK(*woke == std::vector<int>{2, 4, 6});
  auto outcomes = co_await aio::gather_settled(std::move(waiters));
  for (int id : {1, 3, 5}) CHECK(outcomes[static_cast<std::size_t>(id - 1)].cancelled());
}

aio::task<std::string> exception_to_awaiters() {
  aio::future<int> f;
  aio::future<std::string> first = aio::create_task(describe(f));
  aio::future<std::string> second = aio::create_task(describe(f));
  co_await aio::yield();
  f.set_exception(std::runtime_error("bad input"));
  auto [a, b] = co_await aio::gather(first, second);
  co_return a + "|" + b;
}

aio::task<std::string> cancel_pending_future(std::vector<bool>* waiter_futures_cancelled) {
  aio::future<int> f;
  aio::future<std::string> described = aio::create_task(describe(f));
  aio::future<int> plain_waiter = aio::create_task(one_of_many(f, nullptr, 0));
  co_await aio::yield();
  CHECK(f.cancel());
  CHECK(f.cancelled());
  CHECK(f.done());
  CHECK_FALSE(f.cancel());  // already done
  std::string a = co_await described;
  std::string b = co_await describe(plain_waiter);
  // describe() caught the error; one_of_many did not, so its task reads cancelled.
  waiter_futures_cancelled->push_back(described.cancelled());
  waiter_futures_cancelled->push_back(plain_waiter.cancelled());
  co_return a + "|" + b;
}

void record_done(aio::future<int> g, std::vector<std::string>* log, const char* tag, const aio::future<int>* expected) {
  std::string entry = tag;
  entry += g.state() == expected->state() ? " same" : " other";
  entry += g.done() ? " done" : " pending";
  if (g.cancelled()) entry += " cancelled";
  else entry += " " + std::to_string(g.result());
  log->push_back(entry);
}

aio::task<void> done_callbacks(std::vector<std::string>* log) {
  aio::future<int> f;
  const aio::future<int>* fp = &f;
  f.add_done_callback([log, fp](aio::future<int> g) { record_done(g, log, "first", fp); });
  f.add_done_callback([log, fp](aio::future<int> g) { record_done(g, log, "second", fp); });
  co_await aio::yield();
  CHECK(log->empty());  // nothing happens while pending
  f.set_result(5);
  CHECK(log->empty());  // scheduled, not called inline
  co_await aio::yield();
  CHECK(log->size() == 2);

  // On a future that is already done: scheduled all the same.
  f.add_done_callback([log, fp](aio::future<int> g) { record_done(g, log, "late", fp); });
  CHECK(log->size() == 2);
  co_await aio::yield();
  CHECK(log->size() == 3);

  // A cancelled future calls its callbacks too.
  aio::future<int> c;
  const aio::future<int>* cp = &c;
  c.add_done_callback([log, cp](aio::future<int> g) { record_done(g, log, "cancelled", cp); });
  c.cancel();
  CHECK(log->size() == 3);
  co_await aio::yield();

  // A future dropped while pending never calls (nor leaks) its callbacks.
  {
    aio::future<int> dropped;
    dropped.add_done_callback([log](aio::future<int>) { log->push_back("dropped"); });
  }
  co_await aio::yield();
}

// --- task futures ------------------------------------------------------------------

aio::task<std::string> context_name() {
  aio::task_info me = co_await aio::current_task();
  co_return me.get_name();
}

aio::task<std::vector<std::string>> task_names() {
  std::vector<std::string> names;
  names.push_back(co_await context_name());  // aio::run names its task "main"
  aio::future<int> a = aio::create_task(answer_after(1s, 1));
  aio::future<int> b = aio::create_task(answer_after(1s, 2));
  aio::future<int> worker = aio::create_task(answer_after(1s, 3), "worker");
  names.push_back(a.get_name());
  names.push_back(b.get_name());
  names.push_back(worker.get_name());
  worker.set_name("renamed");
  names.push_back(worker.get_name());
  const int worker_result = co_await worker;  // not inside CHECK: g++ 12 evaluates its operand again
  CHECK(worker_result == 3);
  names.push_back(worker.get_name());  // still there once done
  CHECK(worker.done());
  CHECK_FALSE(worker.cancelled());
  CHECK(worker.result() == 3);
  const int a_result = co_await a;
  const int b_result = co_await b;
  CHECK(a_result + b_result == 3);
  co_return names;
}

// Names are kept aside, keyed by the task's state: a state freed and reused
// for the next task must not hand its name on.
aio::task<std::vector<std::string>> names_after_reuse() {
  std::vector<std::string> names;
  for (int round = 0; round < 3; ++round) {
    std::vector<aio::future<int>> named;
    for (int i = 0; i < 100; ++i) named.push_back(aio::create_task(answer_after(1ms, i), "named-" + std::to_string(i)));
    for (auto& f : named) co_await f;
    names.push_back(named[7].get_name());
    named.clear();  // the states go back to the pool
    std::vector<aio::future<int>> plain;
    for (int i = 0; i < 100; ++i) plain.push_back(aio::create_task(answer_after(1ms, i)));
    for (auto& f : plain) {
      const std::string name = f.get_name();
      if (name.rfind("Task-", 0) != 0) names.push_back("inherited: " + name);
      co_await f;
    }
    plain[3].set_name("late");  // a name given after the task finished
    names.push_back(plain[3].get_name());
  }
  co_return names;
}

aio::task<void> cancelling_counters() {
  aio::future<int> f = aio::create_task(answer_after(10s, 1));
  co_await aio::yield();  // it sleeps
  CHECK(f.cancelling() == 0);
  CHECK(f.cancel());
  CHECK(f.cancel());  // not done yet: a second request is counted
  CHECK(f.cancelling() == 2);
  CHECK(f.uncancel() == 1);
  CHECK(f.cancelling() == 1);
  const std::string f_outcome = co_await describe(f);
  CHECK(f_outcome == "cancelled");  // one request left: still cancelled
  CHECK(f.cancelled());
  CHECK(now_seconds() == 0.0);
}

aio::task<int> yields_twice() {
  co_await aio::yield();
  co_await aio::yield();
  co_return 7;
}

aio::task<std::string> uncancel_to_zero() {
  aio::future<int> f = aio::create_task(yields_twice());
  co_await aio::yield();  // it runs up to its first yield
  CHECK(f.cancel());
  CHECK(f.cancelling() == 1);
  CHECK(f.uncancel() == 0);  // 3.13: reaching zero drops the pending cancel
  co_return co_await describe(f);
}

// --- cancelling tasks -------------------------------------------------------------

aio::task<int> records_start(int* ran) {
  *ran = 1;
  co_await aio::sleep(1s);
  co_return 1;
}

aio::task<std::string> cancel_before_first_step(int* ran) {
  aio::future<int> f = aio::create_task(records_start(ran));
  CHECK(f.cancel());
  CHECK_FALSE(f.done());  // as in asyncio, cancel() only requests
  CHECK(f.cancelling() == 1);
  std::string r = co_await describe(f);
  CHECK(f.done());
  CHECK(f.cancelled());
  CHECK_THROWS_AS(f.result(), aio::cancelled_error);
  CHECK_THROWS_AS(f.exception(), aio::cancelled_error);
  co_return r + "@" + std::to_string(now_seconds());
}

aio::task<int> sleeps_then_logs(std::vector<std::string>* log) {
  log->push_back("sleeping");
  co_await aio::sleep(10s);
  log->push_back("woke");  // never, once cancelled
  co_return 1;
}

aio::task<std::string> cancel_while_sleeping(std::vector<std::string>* log) {
  aio::future<int> f = aio::create_task(sleeps_then_logs(log));
  co_await aio::sleep(1s);
  CHECK(f.cancel());
  std::string r = co_await describe(f);
  co_return r + "@" + std::to_string(now_seconds());
}

aio::task<int> awaits(aio::future<int> g, std::vector<std::string>* log, std::string name) {
  try {
    int v = co_await g;
    co_return v;
  } catch (const aio::cancelled_error&) {
    log->push_back(name + " cancelled");
    throw;
  }
}

aio::task<int> awaits_sleep(std::vector<std::string>* log) {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    log->push_back("inner cancelled");
    throw;
  }
  co_return 1;
}

aio::task<void> cancel_while_awaiting_future(std::vector<std::string>* log) {
  // A plain future: cancelling the task cancels it at once (asyncio's _fut_waiter.cancel()).
  aio::future<int> g;
  aio::future<int> t = aio::create_task(awaits(g, log, "outer"));
  co_await aio::yield();
  CHECK(t.cancel());
  CHECK(g.cancelled());
  const std::string t_outcome = co_await describe(t);
  CHECK(t_outcome == "cancelled");

  // A task's future: the task behind it is cancelled and finishes first.
  aio::future<int> inner = aio::create_task(awaits_sleep(log));
  aio::future<int> outer = aio::create_task(awaits(inner, log, "outer2"));
  co_await aio::sleep(1s);
  CHECK(outer.cancel());
  const std::string outer_outcome = co_await describe(outer);
  CHECK(outer_outcome == "cancelled");
  CHECK(inner.cancelled());
  CHECK(inner.cancelling() == 1);
  log->push_back("end@" + std::to_string(now_seconds()));
}

aio::task<int> cleans_up_and_rethrows(std::vector<std::string>* log) {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    log->push_back("cleanup@" + std::to_string(now_seconds()));
    throw;
  }
  co_return 1;
}

aio::task<int> swallows_cancellation() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    co_return -1;  // completes normally
  }
  co_return 1;
}

aio::task<std::string> cancel_after_wake_up_queued() {
  aio::future<int> g;
  aio::future<int> t = aio::create_task(one_of_many(g, nullptr, 0));
  co_await aio::yield();  // t waits on g
  g.set_result(1);        // t's wake-up is queued...
  CHECK(t.cancel());      // ...and the cancel comes after it: delivered at that await all the same
  CHECK_FALSE(g.cancelled());
  CHECK(g.result() == 1);
  co_return co_await describe(t);
}

aio::task<void> register_done_callback(aio::future<int> f, int* calls) {
  f.add_done_callback([calls](aio::future<int>) { ++*calls; });
  co_return;
}

aio::task<std::string> cancel_cleanup_and_swallow(std::vector<std::string>* log,
                                                  std::optional<aio::future<int>>* rethrown,
                                                  std::optional<aio::future<int>>* swallowed) {
  *rethrown = aio::create_task(cleans_up_and_rethrows(log));
  *swallowed = aio::create_task(swallows_cancellation());
  co_await aio::sleep(2s);
  CHECK((*rethrown)->cancel());
  CHECK((*swallowed)->cancel());
  std::string a = co_await describe(**rethrown);
  std::string b = co_await describe(**swallowed);
  co_return a + "|" + b;
}

aio::task<int> immediate(int v) { co_return v; }

aio::task<void> cancels_itself(std::optional<aio::future<void>>* self, std::vector<std::string>* log) {
  log->push_back("before");
  log->push_back((*self)->cancel() ? "accepted" : "refused");
  CHECK_FALSE((*self)->done());
  // Awaiting a task is not a suspension point: no cancellation here.
  log->push_back("immediate " + std::to_string(co_await immediate(4)));
  try {
    co_await aio::sleep(1s);
    log->push_back("slept");
  } catch (const aio::cancelled_error&) {
    log->push_back("cancelled@" + std::to_string(now_seconds()));
    throw;
  }
}

aio::task<void> self_cancel(std::vector<std::string>* log) {
  std::optional<aio::future<void>> self;
  self = aio::create_task(cancels_itself(&self, log));
  log->push_back("main: " + co_await describe(*self));
  CHECK(self->cancelled());
}

aio::task<std::unique_ptr<int>> make_box(int v) {
  co_await aio::yield();
  co_return std::make_unique<int>(v);
}

aio::task<int> move_only_futures() {
  aio::future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(5));
  CHECK(*f.result() == 5);  // result() refers to the stored value, it does not move it
  std::unique_ptr<int> p = co_await f;
  REQUIRE(p);
  aio::future<std::unique_ptr<int>> t = aio::create_task(make_box(37));
  std::unique_ptr<int> q = co_await t;
  REQUIRE(q);
  co_return *p + *q;
}

}  // namespace

// --- plain futures ----------------------------------------------------------------

TEST_CASE("future: set_result, then await", "[future]") {
  CHECK(aio::test::run_test(set_then_await()) == 42);
  CHECK(aio::test::run_test(await_then_set()) == "9@2.000000");
}

TEST_CASE("future: awaited by many, every awaiter gets the value", "[future]") {
  std::vector<int> woke;
  CHECK(aio::test::run_test(awaited_by_many(&woke)) == std::vector<int>{11, 12, 13});
  CHECK(woke == std::vector<int>{1, 2, 3});
}

TEST_CASE("future: awaiters that leave (first, middle, last) leave the others in order", "[future]") {
  std::vector<int> woke;
  aio::test::run_test(waiters_leave_from_anywhere(&woke));
  CHECK(woke == std::vector<int>{2, 4, 6});
}

TEST_CASE("future: result() and exception() before done throw invalid_state_error", "[future]") {
  aio::future<int> f;
  CHECK_THROWS_MATCHES(f.result(), aio::invalid_state_error,
                       Catch::Matchers::Predicate<aio::invalid_state_error>([](const aio::invalid_state_error& e) {
                         return std::string(e.what()).find("before the future is done") != std::string::npos;
                       }));
  CHECK_THROWS_AS(f.exception(), aio::invalid_state_error);
  aio::future<void> v;
  CHECK_THROWS_AS(v.result(), aio::invalid_state_error);
  CHECK_FALSE(f.done());
}

TEST_CASE("future: completing twice throws invalid_state_error", "[future]") {
  aio::future<int> f;
  f.set_result(1);
  CHECK_THROWS_MATCHES(f.set_result(2), aio::invalid_state_error,
                       Catch::Matchers::Predicate<aio::invalid_state_error>([](const aio::invalid_state_error& e) {
                         return std::string(e.what()).find("already done") != std::string::npos;
                       }));
  CHECK_THROWS_AS(f.set_exception(std::runtime_error("late")), aio::invalid_state_error);
  CHECK(f.result() == 1);  // unchanged

  aio::future<void> v;
  v.set_result();
  CHECK_THROWS_AS(v.set_result(), aio::invalid_state_error);

  aio::future<int> c;
  CHECK(c.cancel());
  CHECK_THROWS_AS(c.set_result(3), aio::invalid_state_error);
  CHECK(c.cancelled());

  aio::future<int> e;
  CHECK_THROWS_AS(e.set_exception(std::exception_ptr{}), aio::invalid_state_error);
  CHECK_FALSE(e.done());
}

TEST_CASE("future: set_exception reaches every awaiter and exception() returns it", "[future]") {
  CHECK(aio::test::run_test(exception_to_awaiters()) == "error: bad input|error: bad input");

  aio::future<int> f;
  f.set_exception(std::make_exception_ptr(std::out_of_range("index 3")));
  CHECK(f.done());
  CHECK_FALSE(f.cancelled());
  REQUIRE(f.exception() != nullptr);
  CHECK_THROWS_MATCHES(std::rethrow_exception(f.exception()), std::out_of_range, Catch::Matchers::Message("index 3"));
  CHECK_THROWS_MATCHES(f.result(), std::out_of_range, Catch::Matchers::Message("index 3"));

  // A cancelled_error set as the exception makes the future cancelled (asyncio).
  aio::future<int> c;
  c.set_exception(aio::cancelled_error{});
  CHECK(c.cancelled());
  CHECK_THROWS_AS(c.result(), aio::cancelled_error);
}

TEST_CASE("future: cancel() on a pending future", "[future]") {
  std::vector<bool> waiter_futures_cancelled;
  CHECK(aio::test::run_test(cancel_pending_future(&waiter_futures_cancelled)) == "cancelled|cancelled");
  CHECK(waiter_futures_cancelled == std::vector<bool>{false, true});

  aio::future<int> f;
  CHECK(f.cancel());
  CHECK(f.cancelled());
  CHECK(f.done());
  CHECK_THROWS_AS(f.result(), aio::cancelled_error);
  CHECK_THROWS_AS(f.exception(), aio::cancelled_error);
}

TEST_CASE("future: cancel() on a done future returns false", "[future]") {
  aio::future<int> f;
  f.set_result(4);
  CHECK_FALSE(f.cancel());
  CHECK_FALSE(f.cancelled());
  CHECK(f.result() == 4);

  aio::future<int> e;
  e.set_exception(std::runtime_error("x"));
  CHECK_FALSE(e.cancel());
  CHECK_FALSE(e.cancelled());
}

TEST_CASE("future: add_done_callback is scheduled, not called inline, and receives the future", "[future]") {
  std::vector<std::string> log;
  aio::test::run_test(done_callbacks(&log));
  CHECK(log == std::vector<std::string>{"first same done 5", "second same done 5", "late same done 5",
                                        "cancelled same done cancelled"});

  aio::future<int> outside;
  CHECK_THROWS_AS(outside.add_done_callback([](aio::future<int>) {}), aio::invalid_state_error);
}

// --- task futures ------------------------------------------------------------------

TEST_CASE("future of a task: a reused task state does not keep the name of the task before", "[future]") {
  const std::vector<std::string> names = aio::test::run_test(names_after_reuse());
  CHECK(names == std::vector<std::string>{"named-7", "late", "named-7", "late", "named-7", "late"});
}

TEST_CASE("future of a task: done, result, names", "[future]") {
  const std::vector<std::string> names = aio::test::run_test(task_names());
  REQUIRE(names.size() == 6);
  CHECK(names[0] == "main");
  REQUIRE(names[1].rfind("Task-", 0) == 0);
  REQUIRE(names[2].rfind("Task-", 0) == 0);
  CHECK(std::stoi(names[2].substr(5)) == std::stoi(names[1].substr(5)) + 1);  // consecutive numbers
  CHECK(names[3] == "worker");
  CHECK(names[4] == "renamed");
  CHECK(names[5] == "renamed");

  aio::event_loop loop{aio::virtual_time};
  aio::future<int> m = loop.create_task(answer_after(1s, 6), "main");
  CHECK(loop.run_until_complete(m) == 6);
  CHECK(m.get_name() == "main");

  aio::future<int> plain;
  CHECK(plain.get_name().empty());
  plain.set_name("ignored");
  CHECK(plain.get_name().empty());
  CHECK(plain.cancelling() == 0);
  CHECK(plain.uncancel() == 0);
}

TEST_CASE("future of a task: cancelling() and uncancel() count requests", "[future]") {
  aio::test::run_test(cancelling_counters());
  CHECK(aio::test::run_test(uncancel_to_zero()) == "value 7");
}

TEST_CASE("cancelling a task before it first runs: its body never runs", "[future]") {
  int ran = 0;
  CHECK(aio::test::run_test(cancel_before_first_step(&ran)) == "cancelled@0.000000");
  CHECK(ran == 0);
}

TEST_CASE("cancelling a task suspended in sleep", "[future]") {
  std::vector<std::string> log;
  CHECK(aio::test::run_test(cancel_while_sleeping(&log)) == "cancelled@1.000000");
  CHECK(log == std::vector<std::string>{"sleeping"});
}

TEST_CASE("cancelling a task awaiting a future cancels that future too", "[future]") {
  std::vector<std::string> log;
  aio::test::run_test(cancel_while_awaiting_future(&log));
  // The inner task finishes its cancellation before the outer one resumes.
  CHECK(log == std::vector<std::string>{"outer cancelled", "inner cancelled", "outer2 cancelled", "end@1.000000"});
}

TEST_CASE("a cancel that arrives after the wake-up was queued is delivered at the await", "[future]") {
  CHECK(aio::test::run_test(cancel_after_wake_up_queued()) == "cancelled");
}

// Hidden ([.]): it crashes today (stack-use-after-scope under ASan): the done
// callback keeps a raw pointer to the loop it was registered on. asyncio raises
// RuntimeError("Event loop is closed") from set_result here. Unhide once fixed.
TEST_CASE("completing a future after its loop is gone does not touch the loop", "[future]") {
  aio::future<int> f;
  int calls = 0;
  {
    aio::event_loop loop{aio::virtual_time};
    loop.run_until_complete(register_done_callback(f, &calls));
  }
  try {
    f.set_result(1);
  } catch (const aio::invalid_state_error&) {
    // acceptable: "the loop this callback was registered on is closed"
  }
  CHECK(calls == 0);
  CHECK(f.done());
}

TEST_CASE("a cancelled task may clean up and rethrow, or swallow and return", "[future]") {
  std::vector<std::string> log;
  std::optional<aio::future<int>> rethrown;
  std::optional<aio::future<int>> swallowed;
  CHECK(aio::test::run_test(cancel_cleanup_and_swallow(&log, &rethrown, &swallowed)) == "cancelled|value -1");
  CHECK(log == std::vector<std::string>{"cleanup@2.000000"});
  REQUIRE(rethrown);
  REQUIRE(swallowed);
  CHECK(rethrown->cancelled());
  CHECK_FALSE(swallowed->cancelled());
  CHECK(swallowed->result() == -1);
  CHECK(swallowed->cancelling() == 1);  // as asyncio: the request stays counted until uncancel()
}

TEST_CASE("a running task that cancels itself gets the error at its next suspension", "[future]") {
  std::vector<std::string> log;
  aio::test::run_test(self_cancel(&log));
  CHECK(log == std::vector<std::string>{"before", "accepted", "immediate 4", "cancelled@0.000000", "main: cancelled"});
}

TEST_CASE("cancelling a finished task is a no-op returning false", "[future]") {
  aio::event_loop loop{aio::virtual_time};
  aio::future<int> f = loop.create_task(answer_after(1s, 8));
  CHECK(loop.run_until_complete(f) == 8);
  CHECK_FALSE(f.cancel());
  CHECK(f.cancelling() == 0);
  CHECK_FALSE(f.cancelled());
  CHECK(f.result() == 8);
}

TEST_CASE("future: a move-only value passes through once", "[future]") {
  CHECK(aio::test::run_test(move_only_futures()) == 42);
}

// --- the value's lifetime (held by status: no flag of its own) -------------------

namespace {
aio::task<aio::test::counted> make_counted(int v) { co_return aio::test::counted{v}; }
aio::task<aio::test::counted> fail_counted() {
  throw std::runtime_error("no value (expected by the test)");
  co_return aio::test::counted{0};
}
aio::task<int> value_lifetimes() {
  using aio::test::counted;
  int checks_failed = 0;
  {
    aio::future<counted> plain;
    plain.set_result(counted{7});
    checks_failed += counted::alive != 1;  // only the stored value
    const counted copy = co_await plain;
    checks_failed += copy.value != 7 || counted::alive != 2;
  }
  checks_failed += counted::alive != 0;  // the stored value died with its future
  {
    aio::future<counted> task = aio::create_task(make_counted(3));
    const counted got = co_await task;
    checks_failed += got.value != 3 || counted::alive != 2;
  }
  checks_failed += counted::alive != 0;
  {
    aio::future<counted> failing = aio::create_task(fail_counted());
    try {
      (void)co_await failing;
      ++checks_failed;
    } catch (const std::runtime_error&) {
    }
    aio::future<counted> never_set;
    aio::future<counted> cancelled;
    cancelled.cancel();
    checks_failed += counted::alive != 0;  // no value was ever made: nothing to destroy
  }
  checks_failed += counted::alive != 0;
  co_return checks_failed;
}
}  // namespace

TEST_CASE("future: a stored value is destroyed once, with its future, and only if one was stored", "[future]") {
  aio::test::counted::reset();
  CHECK(aio::test::run_test(value_lifetimes()) == 0);
  CHECK(aio::test::counted::alive == 0);
}
