#include <aio/task_group.hpp>

#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using aio::test::now_seconds;
using aio::test::run_test;

// Declared only: they are named in unevaluated operands.
aio::task<int> int_body(aio::task_group&);
aio::task<> void_body(aio::task_group&, int);
aio::task<std::string> string_body(aio::task_group&, std::string s, int&);

// --- static checks -----------------------------------------------------------

static_assert(std::is_same_v<decltype(aio::with_task_group(int_body)), aio::task<int>>);
static_assert(std::is_same_v<decltype(aio::with_task_group(void_body, 1)), aio::task<>>);
static_assert(std::is_same_v<decltype(aio::with_task_group(string_body, std::string{}, std::ref(std::declval<int&>()))),
                             aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::task_group&>().create_task(std::declval<aio::task<int>>())),
                             aio::future<int>>);
static_assert(!std::is_copy_constructible_v<aio::task_group> && !std::is_move_constructible_v<aio::task_group>);
static_assert(std::is_base_of_v<std::exception, aio::exception_group>);

namespace {

using log_t = std::vector<std::string>;

aio::task<int> sleep_then(aio::duration d, int v, log_t& log) {
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    log.push_back("cancelled " + std::to_string(v));
    throw;
  }
  log.push_back("done " + std::to_string(v));
  co_return v;
}

aio::task<int> fail_after(aio::duration d, std::string what) {
  co_await aio::sleep(d);
  throw std::runtime_error(what);
}

// --- the basics ----------------------------------------------------------------

struct three_results {
  std::vector<aio::future<int>> futures;
};

aio::task<three_results> start_three(aio::task_group& g, log_t& log) {
  three_results r;
  r.futures.push_back(g.create_task(sleep_then(2s, 1, log)));
  r.futures.push_back(g.create_task(sleep_then(1s, 2, log)));
  r.futures.push_back(g.create_task(sleep_then(3s, 3, log), "third"));
  CHECK(g.size() == 3);
  CHECK(r.futures[2].get_name() == "third");
  co_return r;
}

aio::task<> group_waits_for_children() {
  log_t log;
  three_results r = co_await aio::with_task_group(start_three, std::ref(log));
  CHECK(now_seconds() == Approx(3.0));  // concurrently: the longest child
  CHECK(log == log_t{"done 2", "done 1", "done 3"});
  for (auto& f : r.futures) CHECK(f.done());
  CHECK(r.futures[0].result() == 1);
  CHECK(r.futures[1].result() == 2);
  CHECK(r.futures[2].result() == 3);
}

TEST_CASE("task_group: waits for every child, returns the body's value", "[task_group]") {
  run_test(group_waits_for_children());
}

aio::task<> spawn_more(aio::task_group& g, log_t& log, int depth) {
  log.push_back("child " + std::to_string(depth));
  co_await aio::sleep(1s);
  if (depth < 3) g.create_task(spawn_more(g, log, depth + 1));
}

aio::task<> body_spawns_one(aio::task_group& g, log_t& log) {
  g.create_task(spawn_more(g, log, 1));
  co_return;
}

aio::task<> children_add_siblings() {
  log_t log;
  co_await aio::with_task_group(body_spawns_one, std::ref(log));
  CHECK(log == log_t{"child 1", "child 2", "child 3"});
  CHECK(now_seconds() == Approx(3.0));
}

TEST_CASE("task_group: children may add siblings while the group waits", "[task_group]") {
  run_test(children_add_siblings());
}

aio::task<> use_later(const std::string& s, aio::duration d, log_t& log) {
  co_await aio::sleep(d);
  log.push_back(s);  // s is the body's parameter: the body has returned by now
}

aio::task<> body_lends_its_parameter(aio::task_group& g, std::string s, log_t& log) {
  g.create_task(use_later(s, 1s, log));
  g.create_task(use_later(s, 2s, log));
  co_return;
}

aio::task<> body_parameters_outlive_children() {
  log_t log;
  co_await aio::with_task_group(body_lends_its_parameter, std::string(64, 'p'), std::ref(log));
  CHECK(log == log_t{std::string(64, 'p'), std::string(64, 'p')});
}

TEST_CASE("task_group: the body's parameters outlive its children", "[task_group]") {
  run_test(body_parameters_outlive_children());
}

aio::task<> empty_body(aio::task_group&) { co_return; }

aio::task<> nap(aio::duration d) { co_await aio::sleep(d); }

aio::task<> empty_group() {
  co_await aio::with_task_group(empty_body);
  CHECK(now_seconds() == 0.0);
  // A capture-free coroutine lambda works too.
  auto body = [](aio::task_group& g, int n) -> aio::task<int> {
    g.create_task(nap(1s));
    co_return n * 2;
  };
  const int v = co_await aio::with_task_group(body, 21);
  CHECK(v == 42);
  CHECK(now_seconds() == Approx(1.0));
}

TEST_CASE("task_group: empty group; a lambda body", "[task_group]") { run_test(empty_group()); }

// --- failures --------------------------------------------------------------------

aio::task<> body_with_failing_child(aio::task_group& g, log_t& log) {
  g.create_task(sleep_then(10s, 1, log));
  g.create_task(fail_after(1s, "boom"));
  g.create_task(sleep_then(10s, 2, log));
  try {
    co_await aio::sleep(10s);  // interrupted when the child fails
    log.push_back("body finished");
  } catch (const aio::cancelled_error&) {
    log.push_back("body cancelled");
    // The group is shutting down: no new children.
    CHECK_THROWS_AS(g.create_task(sleep_then(1s, 9, log)), aio::invalid_state_error);
    throw;
  }
}

aio::task<> failing_child_cancels_siblings_and_body() {
  log_t log;
  std::string error;
  try {
    co_await aio::with_task_group(body_with_failing_child, std::ref(log));
  } catch (const std::runtime_error& e) {
    error = e.what();  // a single error is rethrown as itself
  }
  CHECK(error == "boom");
  CHECK(now_seconds() == Approx(1.0));
  std::sort(log.begin(), log.end());
  CHECK(log == log_t{"body cancelled", "cancelled 1", "cancelled 2"});
  // The group took back its cancel of the owner: later awaits run normally.
  co_await aio::sleep(1s);
  CHECK(now_seconds() == Approx(2.0));
}

TEST_CASE("task_group: a failing child cancels its siblings and the body", "[task_group]") {
  run_test(failing_child_cancels_siblings_and_body());
}

aio::task<int> owner_of_failing_group(log_t& log) {
  try {
    co_await aio::with_task_group(body_with_failing_child, std::ref(log));
  } catch (const std::runtime_error&) {
  }
  co_await aio::sleep(1s);  // not cancelled by a stale request
  co_return 7;
}

aio::task<> owner_not_left_cancelled() {
  log_t log;
  auto owner = aio::create_task(owner_of_failing_group(log));
  const int v = co_await owner;
  CHECK(v == 7);
  CHECK(owner.cancelling() == 0);  // the group's cancel request was taken back
}

TEST_CASE("task_group: the owner's cancelling() is restored after the group", "[task_group]") {
  run_test(owner_not_left_cancelled());
}

aio::task<> fail_when_cancelled(std::string what) {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
  }
  throw std::runtime_error(what);
}

aio::task<> two_failures(aio::task_group& g) {
  g.create_task(fail_after(1s, "first"));
  g.create_task(fail_when_cancelled("second"));
  co_return;
}

aio::task<> same_iteration_failures(aio::task_group& g) {
  g.create_task(fail_after(1s, "first"));
  g.create_task(fail_after(1s, "second"));
  co_return;
}

aio::task<> failure_is_handled_at_once() {
  // Unlike asyncio, whose done-callbacks run an iteration later, the group
  // reacts to a failure at once: a sibling whose sleep ended in the same
  // iteration is cancelled at that await instead of failing too.
  std::string error;
  try {
    co_await aio::with_task_group(same_iteration_failures);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK(error == "first");
}

TEST_CASE("task_group: a failure cancels siblings at once, even those woken in the same iteration",
          "[task_group]") {
  run_test(failure_is_handled_at_once());
}

aio::task<> several_errors_make_a_group() {
  std::vector<std::string> whats;
  std::string message;
  try {
    co_await aio::with_task_group(two_failures);
  } catch (const aio::exception_group& eg) {
    message = eg.what();
    for (const auto& e : eg.exceptions()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::runtime_error& x) {
        whats.push_back(x.what());
      }
    }
  }
  CHECK(whats == std::vector<std::string>{"first", "second"});
  CHECK(message.find("first") != std::string::npos);
  CHECK(message.find("second") != std::string::npos);
}

TEST_CASE("task_group: several errors are rethrown as an exception_group", "[task_group]") {
  run_test(several_errors_make_a_group());
}

aio::task<> cancelled_child(aio::duration d) {
  co_await aio::sleep(d);
  throw aio::cancelled_error{};  // ends cancelled: not an error
}

aio::task<> body_with_cancelled_child(aio::task_group& g, log_t& log) {
  g.create_task(cancelled_child(1s));
  g.create_task(sleep_then(2s, 1, log));
  co_return;
}

aio::task<> cancelled_children_are_not_errors() {
  log_t log;
  co_await aio::with_task_group(body_with_cancelled_child, std::ref(log));
  CHECK(log == log_t{"done 1"});
}

TEST_CASE("task_group: a child that ends cancelled is not an error", "[task_group]") {
  run_test(cancelled_children_are_not_errors());
}

// --- the body throws: children never outlive the group ---------------------------

struct lifetime {
  int running = 0;
  int cleaned_up = 0;
};

aio::task<> tracked_child(lifetime& l, aio::duration d) {
  ++l.running;
  aio::test::counted guard{1};
  bool cancelled = false;
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    cancelled = true;
  }
  if (cancelled) {
    co_await aio::sleep(100ms);  // cleanup may await: it gets to finish
    ++l.cleaned_up;
    --l.running;
    throw aio::cancelled_error{};
  }
  --l.running;
}

aio::task<> throwing_body(aio::task_group& g, lifetime& l) {
  for (int i = 0; i < 3; ++i) g.create_task(tracked_child(l, 10s));
  co_await aio::sleep(1s);
  throw std::logic_error("body failed");
}

aio::task<> body_error_cancels_children() {
  aio::test::counted::reset();
  lifetime l;
  std::string error;
  try {
    co_await aio::with_task_group(throwing_body, std::ref(l));
  } catch (const std::logic_error& e) {
    error = e.what();
    // By the time the error reaches us, every child has finished.
    CHECK(l.running == 0);
    CHECK(l.cleaned_up == 3);
    CHECK(aio::test::counted::alive == 0);
  }
  CHECK(error == "body failed");
  CHECK(now_seconds() == Approx(1.1));  // the children's cleanup took 100 ms
}

TEST_CASE("task_group: an error in the body cancels the children, which never outlive the group", "[task_group]") {
  run_test(body_error_cancels_children());
}

aio::task<> child_failing_in_cleanup() {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
  }
  throw std::runtime_error("cleanup failed");
}

aio::task<> body_error_and_child_error(aio::task_group& g) {
  g.create_task(child_failing_in_cleanup());
  co_await aio::sleep(1s);
  throw std::logic_error("body failed");
}

aio::task<> body_and_child_errors() {
  std::vector<std::string> whats;
  try {
    co_await aio::with_task_group(body_error_and_child_error);
  } catch (const aio::exception_group& eg) {
    for (const auto& e : eg.exceptions()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        whats.push_back(x.what());
      }
    }
  }
  // The children's errors first, then the body's (as asyncio orders them).
  CHECK(whats == std::vector<std::string>{"cleanup failed", "body failed"});
}

TEST_CASE("task_group: a body error and a child error make an exception_group", "[task_group]") {
  run_test(body_and_child_errors());
}

// --- cancellation of the owning task ---------------------------------------------

aio::task<> body_sleeps(aio::task_group& g, lifetime& l, aio::duration body_time) {
  for (int i = 0; i < 2; ++i) g.create_task(tracked_child(l, 10s));
  co_await aio::sleep(body_time);
}

aio::task<> owner(lifetime& l, aio::duration body_time, log_t& log) {
  try {
    co_await aio::with_task_group(body_sleeps, std::ref(l), body_time);
  } catch (const aio::cancelled_error&) {
    log.push_back("owner cancelled, running children: " + std::to_string(l.running));
    throw;
  }
}

aio::task<> cancel_owner(aio::duration body_time) {
  lifetime l;
  log_t log;
  auto o = aio::create_task(owner(l, body_time, log));
  co_await aio::sleep(1s);
  o.cancel();
  co_await aio::sleep(1s);
  CHECK(o.cancelled());
  CHECK(l.cleaned_up == 2);
  CHECK(log == log_t{"owner cancelled, running children: 0"});
}

TEST_CASE("task_group: cancelling the owner while the body runs", "[task_group]") { run_test(cancel_owner(10s)); }

TEST_CASE("task_group: cancelling the owner while the group waits for its children", "[task_group]") {
  run_test(cancel_owner(0s));
}

aio::task<> owner_with_failing_group(log_t& log) { co_await aio::with_task_group(body_with_failing_child, std::ref(log)); }

aio::task<> errors_win_over_outer_cancel() {
  log_t log;
  auto o = aio::create_task(owner_with_failing_group(log));
  co_await aio::sleep(1s);  // the child fails at 1 s, in this same iteration...
  o.cancel();               // ...and the owner is cancelled from outside too
  co_await aio::sleep(1s);
  REQUIRE(o.done());
  CHECK_FALSE(o.cancelled());
  CHECK_THROWS_WITH(o.result(), "boom");
}

TEST_CASE("task_group: child errors win over an outside cancellation", "[task_group]") {
  run_test(errors_win_over_outer_cancel());
}

aio::task<> group_under_timeout() {
  lifetime l;
  bool timed_out = false;
  try {
    co_await aio::wait_for(aio::with_task_group(body_sleeps, std::ref(l), aio::duration{10s}), 2s);
  } catch (const aio::timeout_error&) {
    timed_out = true;
  }
  CHECK(timed_out);
  CHECK(l.cleaned_up == 2);
  CHECK(l.running == 0);
  CHECK(now_seconds() == Approx(2.1));  // the deadline, plus the children's cleanup
}

TEST_CASE("task_group: inside wait_for, the deadline cancels body and children", "[task_group]") {
  run_test(group_under_timeout());
}

// --- nesting -----------------------------------------------------------------------

aio::task<> inner_body(aio::task_group& g, log_t& log) {
  g.create_task(sleep_then(10s, 2, log));
  g.create_task(fail_after(1s, "inner boom"));
  co_await aio::sleep(10s);
}

aio::task<> outer_body(aio::task_group& g, log_t& log) {
  g.create_task(sleep_then(10s, 1, log));
  co_await aio::with_task_group(inner_body, std::ref(log));
  log.push_back("not reached");
}

aio::task<> nested_groups() {
  log_t log;
  std::string error;
  try {
    co_await aio::with_task_group(outer_body, std::ref(log));
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK(error == "inner boom");
  std::sort(log.begin(), log.end());
  CHECK(log == log_t{"cancelled 1", "cancelled 2"});
  CHECK(now_seconds() == Approx(1.0));
}

TEST_CASE("task_group: nested groups: an inner failure propagates and cancels the outer children",
          "[task_group]") {
  run_test(nested_groups());
}

aio::task<> inner_waits(aio::task_group& g, lifetime& l) {
  g.create_task(tracked_child(l, 10s));
  co_return;
}

aio::task<> outer_with_failing_child(aio::task_group& g, lifetime& l) {
  g.create_task(fail_after(1s, "outer boom"));
  co_await aio::with_task_group(inner_waits, std::ref(l));  // the outer failure cancels us here
}

aio::task<> outer_failure_cancels_inner_group() {
  lifetime l;
  std::string error;
  try {
    co_await aio::with_task_group(outer_with_failing_child, std::ref(l));
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK(error == "outer boom");
  CHECK(l.cleaned_up == 1);
  CHECK(l.running == 0);
}

TEST_CASE("task_group: nested groups: an outer failure cancels an inner group", "[task_group]") {
  run_test(outer_failure_cancels_inner_group());
}

// --- the loop closes under a group ---------------------------------------------------

struct touch_on_exit {
  std::string& s;
  ~touch_on_exit() { s += "."; }  // use-after-free here if the body's frame died first
};

aio::task<> stubborn_child(aio::event& never, std::string& body_param) {
  aio::test::counted guard{1};
  touch_on_exit touch{body_param};
  for (;;) {
    try {
      co_await never.wait();
    } catch (const aio::cancelled_error&) {
      // swallows every cancel: only the loop's close() can end it
    }
  }
}

aio::task<> stubborn_body(aio::task_group& g, aio::event& never, std::string param) {
  g.create_task(stubborn_child(never, param));
  g.create_task(stubborn_child(never, param));
  co_return;
}

aio::task<> owner_of_stubborn_group(aio::event& never) {
  co_await aio::with_task_group(stubborn_body, std::ref(never), std::string(100, 'x'));
}

aio::task<> main_leaves_group_behind(aio::event& never) {
  (void)aio::create_task(owner_of_stubborn_group(never));
  co_await aio::sleep(1s);
}

TEST_CASE("task_group: a loop closing under a group destroys the children with it", "[task_group]") {
  aio::test::counted::reset();
  aio::event never;
  run_test(main_leaves_group_behind(never));  // aio::run cancels, then close() destroys the stubborn ones
  CHECK(aio::test::counted::alive == 0);
}

}  // namespace
