// Tests for aio/threads.hpp: aio::to_thread, loop.run_in_executor with an
// aio::thread_pool, loop.call_soon_threadsafe (with and without keep_alive) and
// aio::run_coroutine_threadsafe. Real threads: run under ThreadSanitizer too.
//
// Coordination between the loop and the workers uses std::atomic flags and
// short bounded polls, so that a broken wake-up fails a CHECK instead of hanging.
#include <aio/threads.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- result types ------------------------------------------------------------

namespace {
int add(int a, int b) { return a + b; }
void nothing() {}
std::string greet(std::string who) { return "hello " + who; }
}  // namespace

static_assert(std::is_same_v<decltype(aio::to_thread(add, 1, 2)), aio::task<int>>);
static_assert(std::is_same_v<decltype(aio::to_thread(nothing)), aio::task<void>>);
static_assert(std::is_same_v<decltype(aio::to_thread(greet, std::string("x"))), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::event_loop&>().run_in_executor(
                                 std::declval<aio::thread_pool&>(), [] { return 1.5; })),
                             aio::future<double>>);
static_assert(std::is_same_v<decltype(aio::run_coroutine_threadsafe(std::declval<aio::task<int>>(),
                                                                    std::declval<aio::event_loop&>())),
                             std::future<int>>);
static_assert(!std::is_copy_constructible_v<aio::thread_pool>);

namespace {

using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

/// Polls `flag` on the loop (1 ms real sleeps), up to `limit`; true if it was set.
aio::task<bool> eventually(std::shared_ptr<std::atomic<bool>> flag, std::chrono::milliseconds limit) {
  const auto t0 = clk::now();
  while (!flag->load()) {
    if (clk::now() - t0 > limit) co_return false;
    co_await aio::sleep(1ms);
  }
  co_return true;
}

/// Spins (on a worker) until `flag` is set, up to 5 s; throws if it never is.
void wait_on_worker(const std::atomic<bool>& flag) {
  const auto t0 = clk::now();
  while (!flag.load()) {
    if (clk::now() - t0 > 5s) throw std::runtime_error("wait_on_worker: never released");
    std::this_thread::sleep_for(100us);
  }
}

// --- to_thread: values, arguments, exceptions -----------------------------------

struct thread_report {
  std::thread::id loop_before, worker, loop_after;
  int sum = 0;
};

aio::task<thread_report> values_and_threads() {
  thread_report r;
  r.loop_before = std::this_thread::get_id();
  std::thread::id worker_id;
  auto job = [&worker_id](int a, int b) {
    worker_id = std::this_thread::get_id();
    return a + b;
  };
  auto t = aio::to_thread(job, 40, 2);
  r.sum = co_await std::move(t);
  r.worker = worker_id;  // written before the result was handed over
  r.loop_after = std::this_thread::get_id();
  co_return r;
}

TEST_CASE("to_thread runs the function on a worker and resumes on the loop's thread", "[threads]") {
  const thread_report r = aio::run(values_and_threads());
  CHECK(r.sum == 42);
  CHECK(r.worker != r.loop_before);
  CHECK(r.worker != std::thread::id{});
  CHECK(r.loop_after == r.loop_before);
}

aio::task<std::string> strings_and_void() {
  auto a = aio::to_thread(greet, std::string("world"));
  std::string s = co_await std::move(a);
  auto b = aio::to_thread(add, 2, 3);
  const int five = co_await std::move(b);
  auto c = aio::to_thread(nothing);
  co_await std::move(c);
  co_return s + " " + std::to_string(five);
}

TEST_CASE("to_thread passes arguments by value and returns values and void", "[threads]") {
  CHECK(aio::run(strings_and_void()) == "hello world 5");
}

aio::task<std::string> argument_copies() {
  // The argument is copied into the job: changing ours afterwards (before the
  // job even ran) changes nothing.
  std::string name = "original";
  auto t = aio::to_thread(greet, name);
  name = "changed";
  co_return co_await std::move(t);
}

TEST_CASE("to_thread copies its arguments when the task is made", "[threads]") {
  CHECK(aio::run(argument_copies()) == "hello original");
}

int throws_out_of_range(int v) {
  if (v > 0) throw std::out_of_range("bad value " + std::to_string(v));
  return v;
}

aio::task<std::string> exception_from_worker() {
  auto t = aio::to_thread(throws_out_of_range, 7);
  try {
    (void)co_await std::move(t);
  } catch (const std::out_of_range& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "no exception";
}

TEST_CASE("an exception thrown on the worker reaches the awaiter as itself", "[threads]") {
  CHECK(aio::run(exception_from_worker()) == "caught: bad value 7");
}

aio::task<int> exception_to_aio_run() {
  auto t = aio::to_thread(throws_out_of_range, 1);
  co_return co_await std::move(t);
}

TEST_CASE("an exception from to_thread propagates out of aio::run", "[threads]") {
  CHECK_THROWS_AS(aio::run(exception_to_aio_run()), std::out_of_range);
}

// --- to_thread: cancellation ------------------------------------------------------

struct gate {
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  std::weak_ptr<int> result;
  std::mutex m;  // guards `result` (written on the worker, read after the loop)
};

aio::task<void> awaits_blocking(std::shared_ptr<gate> g) {
  auto job = [g] {
    g->started = true;
    wait_on_worker(g->release);
    auto r = std::make_shared<int>(99);
    {
      std::lock_guard<std::mutex> lock(g->m);
      g->result = r;
    }
    g->finished = true;
    return r;
  };
  auto t = aio::to_thread(job);
  std::shared_ptr<int> r = co_await std::move(t);
  (void)r;
}

struct cancel_report {
  bool threw_cancelled = false;
  double cancel_ms = -1;
  bool finished_at_cancel = true;
  bool finished_later = false;
};

aio::task<cancel_report> cancel_to_thread(std::shared_ptr<gate> g) {
  cancel_report rep;
  aio::future<void> waiter = aio::create_task(awaits_blocking(g));
  while (!g->started) co_await aio::sleep(1ms);
  const auto t0 = clk::now();
  waiter.cancel();
  try {
    co_await waiter;
  } catch (const aio::cancelled_error&) {
    rep.threw_cancelled = true;
  }
  rep.cancel_ms = ms_since(t0);
  rep.finished_at_cancel = g->finished.load();
  // The worker is still blocked: let it go, and watch it finish its job anyway.
  g->release = true;
  auto finished = std::shared_ptr<std::atomic<bool>>(g, &g->finished);
  rep.finished_later = co_await eventually(finished, 2000ms);
  co_await aio::sleep(5ms);  // the dropped result's hand-over callback runs on the loop
  co_return rep;
}

TEST_CASE("cancelling a task awaiting to_thread returns at once; the thread finishes later", "[threads]") {
  auto g = std::make_shared<gate>();
  const cancel_report rep = aio::run(cancel_to_thread(g));
  CHECK(rep.threw_cancelled);
  CHECK(rep.cancel_ms < 100.0);  // not blocked until the job ends (it never would, unreleased)
  CHECK_FALSE(rep.finished_at_cancel);
  CHECK(rep.finished_later);
  std::lock_guard<std::mutex> lock(g->m);
  CHECK(g->result.expired());  // the dropped result was released, not leaked
}

aio::task<bool> cancel_and_leave(std::shared_ptr<gate> g) {
  aio::future<void> waiter = aio::create_task(awaits_blocking(g));
  while (!g->started) co_await aio::sleep(1ms);
  waiter.cancel();
  try {
    co_await waiter;
  } catch (const aio::cancelled_error&) {
  }
  // Release the worker but return at once: its result arrives after the loop
  // has stopped running (aio::run's close() waits for the job).
  std::thread releaser([g] {
    std::this_thread::sleep_for(30ms);
    g->release = true;
  });
  releaser.detach();
  co_return g->finished.load();
}

TEST_CASE("a to_thread job that outlives its cancelled awaiter and aio::run is joined and released", "[threads]") {
  auto g = std::make_shared<gate>();
  CHECK_FALSE(aio::run(cancel_and_leave(g)));
  CHECK(g->finished.load());  // aio::run waited for the default executor's job
  std::lock_guard<std::mutex> lock(g->m);
  CHECK(g->result.expired());
}

// --- to_thread: many at once, and virtual time -----------------------------------

aio::task<std::pair<std::vector<int>, std::size_t>> hundred_to_threads() {
  auto ids = std::make_shared<std::pair<std::mutex, std::set<std::thread::id>>>();
  auto job = [ids](int i) {
    {
      std::lock_guard<std::mutex> lock(ids->first);
      ids->second.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(200us);
    return i * i;
  };
  std::vector<aio::task<int>> tasks;
  for (int i = 0; i < 100; ++i) tasks.push_back(aio::to_thread(job, i));
  auto all = aio::gather(std::move(tasks));
  std::vector<int> squares = co_await std::move(all);
  std::lock_guard<std::mutex> lock(ids->first);
  co_return std::pair<std::vector<int>, std::size_t>{std::move(squares), ids->second.size()};
}

TEST_CASE("100 concurrent to_thread calls all complete, results in order, on the pool's workers", "[threads]") {
  auto [squares, threads] = aio::run(hundred_to_threads());
  REQUIRE(squares.size() == 100);
  int bad = 0;
  for (int i = 0; i < 100; ++i) bad += squares[static_cast<std::size_t>(i)] != i * i;
  CHECK(bad == 0);
  CHECK(threads >= 1);
  CHECK(threads <= std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4));
}

aio::task<int> two_after_10s() {
  co_await aio::sleep(10s);
  co_return 2;
}

aio::task<double> thread_vs_virtual_timer() {
  // A 30 ms real job next to a 10 s virtual sleep: the loop must wait for the
  // job in real time instead of jumping to the timer.
  auto slow = [] {
    std::this_thread::sleep_for(30ms);
    return 1;
  };
  auto job = aio::to_thread(slow);
  auto race = aio::when_any(std::move(job), two_after_10s());
  auto r = co_await std::move(race);
  CHECK(r.index == 0);
  co_return aio::test::now_seconds();
}

TEST_CASE("virtual time does not jump past a pending to_thread job", "[threads]") {
  const double t = aio::test::run_test(thread_vs_virtual_timer());
  CHECK(t < 1.0);
}

// --- run_in_executor with a custom pool -------------------------------------------

aio::task<std::vector<int>> executor_fifo(aio::thread_pool* pool) {
  aio::event_loop& loop = aio::get_running_loop();
  auto order = std::make_shared<std::pair<std::mutex, std::vector<int>>>();
  std::vector<aio::future<int>> futures;
  for (int i = 0; i < 5; ++i) {
    futures.push_back(loop.run_in_executor(*pool, [order, i] {
      std::lock_guard<std::mutex> lock(order->first);
      order->second.push_back(i);
      return i * 10;
    }));
  }
  auto all = aio::gather(std::move(futures));
  std::vector<int> results = co_await std::move(all);
  std::lock_guard<std::mutex> lock(order->first);
  CHECK(order->second == std::vector<int>{0, 1, 2, 3, 4});  // one worker: FIFO
  co_return results;
}

TEST_CASE("run_in_executor runs on a custom thread_pool and completes its futures", "[threads]") {
  aio::thread_pool pool{1};
  CHECK(pool.size() == 1);
  CHECK(aio::run(executor_fifo(&pool)) == std::vector<int>{0, 10, 20, 30, 40});
}

aio::task<std::string> executor_exception(aio::thread_pool* pool) {
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<int> f = loop.run_in_executor(*pool, [] { return throws_out_of_range(3); });
  try {
    (void)co_await f;
  } catch (const std::out_of_range& e) {
    CHECK(f.done());
    CHECK(f.exception() != nullptr);
    co_return e.what();
  }
  co_return "none";
}

TEST_CASE("run_in_executor delivers the job's exception through the future", "[threads]") {
  aio::thread_pool pool{2};
  CHECK(aio::run(executor_exception(&pool)) == "bad value 3");
}

aio::task<bool> executor_cancel(aio::thread_pool* pool, std::shared_ptr<gate> g) {
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<int> f = loop.run_in_executor(*pool, [g] {
    g->started = true;
    wait_on_worker(g->release);
    g->finished = true;
    return 5;
  });
  while (!g->started) co_await aio::sleep(1ms);
  CHECK(f.cancel());
  CHECK(f.cancelled());
  g->release = true;
  auto finished = std::shared_ptr<std::atomic<bool>>(g, &g->finished);
  const bool ok = co_await eventually(finished, 2000ms);
  co_await aio::sleep(5ms);
  CHECK(f.cancelled());  // the late result did not overwrite the cancellation
  co_return ok;
}

TEST_CASE("a cancelled run_in_executor future stays cancelled when the job finishes", "[threads]") {
  aio::thread_pool pool{1};
  auto g = std::make_shared<gate>();
  CHECK(aio::run(executor_cancel(&pool, g)));
}

aio::task<double> executor_after_shutdown(aio::thread_pool* pool) {
  aio::event_loop& loop = aio::get_running_loop();
  bool refused = false;
  try {
    (void)loop.run_in_executor(*pool, [] { return 1; });
  } catch (const aio::invalid_state_error&) {
    refused = true;
  }
  CHECK(refused);
  // The refused job must not leave the loop believing a job is still out
  // there: virtual time jumps over this sleep at once.
  const auto t0 = clk::now();
  co_await aio::sleep(1s);
  co_return ms_since(t0);
}

TEST_CASE("run_in_executor on a shut-down pool throws, and leaves no job pending on the loop", "[threads]") {
  aio::thread_pool pool{1};
  pool.shutdown();
  const double real_ms = aio::test::run_test(executor_after_shutdown(&pool));
  CHECK(real_ms < 500.0);
}

// --- thread_pool ---------------------------------------------------------------

TEST_CASE("thread_pool runs submitted jobs; submit after shutdown throws invalid_state_error", "[threads]") {
  std::atomic<int> ran{0};
  aio::thread_pool pool{2};
  CHECK(pool.size() == 2);
  for (int i = 0; i < 10; ++i) pool.submit([&ran] {
      std::this_thread::sleep_for(100us);
      ++ran;
    });
  pool.shutdown(true);  // waits for the queue to drain
  CHECK(ran.load() == 10);
  CHECK_THROWS_AS(pool.submit([&ran] { ++ran; }), aio::invalid_state_error);
  CHECK(ran.load() == 10);
  pool.shutdown(true);  // twice is harmless
}

TEST_CASE("thread_pool(0) sizes itself like Python's executor; a throwing raw job does not kill a worker",
          "[threads]") {
  aio::thread_pool pool;
  CHECK(pool.size() == std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4));
  aio::thread_pool one{1};
  std::atomic<bool> after{false};
  one.submit([] { throw std::runtime_error("escaped"); });
  one.submit([&after] { after = true; });
  one.shutdown(true);
  CHECK(after.load());
}

// --- call_soon_threadsafe ----------------------------------------------------------

aio::task<int> threadsafe_with_keep_alive() {
  aio::event_loop& loop = aio::get_running_loop();
  // The future's handle is loop-affine (its reference count is not atomic):
  // the thread gets a pointer to it, and only the loop touches it.
  aio::future<int> answer;
  aio::future<int>* target = &answer;
  auto token = loop.keep_alive();
  std::thread producer([&loop, target, token = std::move(token)]() mutable {
    std::this_thread::sleep_for(20ms);
    loop.call_soon_threadsafe([target] { target->set_result(42); });
    token = {};  // dropped after the post: the loop may report deadlocks again
  });
  const int v = co_await answer;
  producer.join();
  co_return v;
}

TEST_CASE("call_soon_threadsafe from a std::thread sets a future the loop awaits (keep_alive)", "[threads]") {
  const auto t0 = clk::now();
  CHECK(aio::run(threadsafe_with_keep_alive()) == 42);
  CHECK(ms_since(t0) < 2000.0);
}

TEST_CASE("call_soon_threadsafe with keep_alive on a virtual-time loop: time does not jump", "[threads]") {
  CHECK(aio::test::run_test(threadsafe_with_keep_alive()) == 42);
}

aio::task<std::thread::id> runs_on_which_thread() {
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<std::thread::id> where;
  aio::future<std::thread::id>* target = &where;
  auto token = loop.keep_alive();
  std::thread poster([&loop, target, token = std::move(token)]() mutable {
    loop.call_soon_threadsafe([target] { target->set_result(std::this_thread::get_id()); });
  });
  poster.join();
  co_return co_await where;
}

TEST_CASE("a call_soon_threadsafe callback runs on the loop's thread", "[threads]") {
  CHECK(aio::run(runs_on_which_thread()) == std::this_thread::get_id());
}

aio::task<int> threadsafe_posted_before_idle() {
  // No keep_alive, but the post has already happened (the thread is joined)
  // when the loop runs out of work: the callback sits in the loop's inbox, so
  // the awaited future will be set, and this is not a deadlock.
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<int> answer;
  aio::future<int>* target = &answer;
  std::thread poster([&loop, target] { loop.call_soon_threadsafe([target] { target->set_result(7); }); });
  poster.join();
  co_return co_await answer;
}

TEST_CASE("without keep_alive: a call already posted when the loop goes idle is not a deadlock", "[threads]") {
  int v = 0;
  CHECK_NOTHROW(v = aio::run(threadsafe_posted_before_idle()));
  CHECK(v == 7);
}

aio::task<int> threadsafe_while_timer_pending() {
  // No keep_alive, but a 5 s timeout keeps the loop waiting in epoll: the
  // post wakes it at once.
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<int> answer;
  aio::future<int>* target = &answer;
  std::thread poster([&loop, target] {
    std::this_thread::sleep_for(20ms);
    loop.call_soon_threadsafe([target] { target->set_result(8); });
  });
  auto limited = aio::wait_for(answer, 5s);
  const int v = co_await std::move(limited);
  poster.join();
  co_return v;
}

TEST_CASE("without keep_alive: a post wakes a loop that waits for a timer", "[threads]") {
  const auto t0 = clk::now();
  CHECK(aio::run(threadsafe_while_timer_pending()) == 8);
  CHECK(ms_since(t0) < 2000.0);  // woken by the post, not by the 5 s timer
}

aio::task<int> awaits(aio::future<int> f) { co_return co_await f; }

TEST_CASE("without keep_alive: an idle loop reports deadlock_error, and stays usable afterwards", "[threads]") {
  // The contract: only keep_alive (or pending thread-pool work) tells the loop
  // that another thread may still post. Without it, an idle loop awaiting a
  // future nobody on the loop can set is a deadlock, and says so instead of
  // hanging; the thread's later post is still delivered by the next run.
  aio::event_loop loop;
  aio::future<int> answer;
  aio::future<int>* target = &answer;
  std::atomic<bool> go{false};
  std::thread poster([&loop, &go, target] {
    wait_on_worker(go);
    loop.call_soon_threadsafe([target] { target->set_result(9); });
  });
  aio::future<int> main = loop.create_task(awaits(answer));
  CHECK_THROWS_AS(loop.run_until_complete(main), aio::deadlock_error);
  CHECK_FALSE(main.done());
  go = true;
  poster.join();
  CHECK(loop.run_until_complete(main) == 9);
  loop.close();
}

// --- run_coroutine_threadsafe ------------------------------------------------------

aio::task<int> doubled_later(int v) {
  co_await aio::sleep(5ms);
  co_return v * 2;
}

aio::task<int> fails_later() {
  co_await aio::sleep(1ms);
  throw std::length_error("too long");
}

aio::task<int> sleeps_long() {
  co_await aio::sleep(10s);
  co_return 0;
}

struct threadsafe_results {
  int value = 0;
  std::string error;
  std::exception_ptr keep;
  std::thread::id ran_on;
};

/// Serves the other thread until it posts `done`.
aio::task<void> serve_until(aio::future<void> done) { co_await done; }

aio::task<std::thread::id> thread_of_task() {
  co_await aio::yield();
  co_return std::this_thread::get_id();
}

TEST_CASE("run_coroutine_threadsafe from another thread returns a std::future with the result", "[threads]") {
  aio::event_loop loop;
  aio::future<void> done;
  threadsafe_results r;
  auto token = loop.keep_alive();
  aio::future<void>* finish = &done;
  std::thread client([&loop, &r, finish, token = std::move(token)]() mutable {
    r.value = aio::run_coroutine_threadsafe(doubled_later(21), loop).get();
    try {
      aio::run_coroutine_threadsafe(fails_later(), loop).get();
    } catch (const std::length_error& e) {
      r.error = e.what();
      // Keep the exception alive until the join: the last reference is then
      // dropped on this test's thread. (libstdc++ counts exception references
      // with atomics ThreadSanitizer cannot see, so a free on the loop thread
      // would be reported as a race with the read above.)
      r.keep = std::current_exception();
    }
    r.ran_on = aio::run_coroutine_threadsafe(thread_of_task(), loop).get();
    loop.call_soon_threadsafe([finish] { finish->set_result(); });
    token = {};
  });
  loop.run_until_complete(serve_until(done));
  client.join();
  CHECK(r.value == 42);
  CHECK(r.error == "too long");
  CHECK(r.ran_on == std::this_thread::get_id());
  loop.close();
}

aio::task<void> nap_20ms() { co_await aio::sleep(20ms); }

aio::task<int> awaits_gate(aio::future<int>* gate) { co_return co_await *gate; }

aio::task<void> cancel_gate_when_ready(aio::future<int>* gate, std::future<int>* result) {
  // The posted task is started by now (or soon): cancel the future it awaits,
  // then run until the std::future has its outcome.
  co_await aio::sleep(5ms);
  gate->cancel();
  for (int i = 0; i < 1000 && result->wait_for(0s) != std::future_status::ready; ++i) co_await aio::sleep(1ms);
}

TEST_CASE("run_coroutine_threadsafe: a task that ends cancelled makes the std::future throw cancelled_error",
          "[threads]") {
  aio::event_loop loop;
  aio::future<int> gate;
  std::future<int> result;
  std::thread client([&loop, &result, &gate] { result = aio::run_coroutine_threadsafe(awaits_gate(&gate), loop); });
  client.join();
  loop.run_until_complete(cancel_gate_when_ready(&gate, &result));
  REQUIRE(result.wait_for(0s) == std::future_status::ready);
  CHECK_THROWS_AS(result.get(), aio::cancelled_error);
  loop.close();
}

TEST_CASE("run_coroutine_threadsafe: a task cancelled at loop shutdown makes the std::future throw cancelled_error",
          "[threads]") {
  // What aio::run does at the end (cancel_all_tasks, close) must complete the
  // std::future as cancelled, as asyncio.run does, not break the promise.
  aio::event_loop loop;
  std::future<int> result;
  std::thread client([&loop, &result] { result = aio::run_coroutine_threadsafe(sleeps_long(), loop); });
  client.join();
  loop.run_until_complete(nap_20ms());  // the posted task starts and sleeps
  CHECK(result.wait_for(0s) == std::future_status::timeout);
  loop.cancel_all_tasks();
  loop.close();
  REQUIRE(result.wait_for(0s) == std::future_status::ready);
  CHECK_THROWS_AS(result.get(), aio::cancelled_error);
}

// --- the inbox is read while the loop is busy ----------------------------------------

aio::task<int> busy_until_posted() {
  // No keep_alive and always something ready (the task only yields): a
  // callback posted from another thread must still be run within a few
  // iterations, as asyncio's loop selects (timeout 0) every iteration.
  aio::event_loop& loop = aio::get_running_loop();
  bool flag = false;
  bool* target = &flag;
  std::thread poster([&loop, target] { loop.call_soon_threadsafe([target] { *target = true; }); });
  poster.join();
  int iterations = 0;
  while (!flag && iterations < 100000) {
    co_await aio::yield();
    ++iterations;
  }
  co_return iterations;
}

TEST_CASE("a call_soon_threadsafe callback is not starved by a busy loop", "[threads]") {
  CHECK(aio::run(busy_until_posted()) < 10);
}

}  // namespace
