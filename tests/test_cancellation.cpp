// Tests for aio/cancellation.hpp: cancellation_source / token / registration,
// with_cancellation, and aio::cancelled_error's place outside std::exception.
// The coroutine tests run on virtual time (aio::test::run_test).
#include <aio/cancellation.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- types -------------------------------------------------------------------

namespace {
template <class T> T make();  // for decltype only
}  // namespace

// A `catch (const std::exception&)` must not swallow a cancellation.
static_assert(!std::is_base_of_v<std::exception, aio::cancelled_error>);
static_assert(std::is_nothrow_default_constructible_v<aio::cancelled_error>);
static_assert(std::is_nothrow_default_constructible_v<aio::cancellation_token>);
static_assert(std::is_copy_constructible_v<aio::cancellation_token> && std::is_copy_assignable_v<aio::cancellation_token>);
static_assert(std::is_copy_constructible_v<aio::cancellation_source>);
static_assert(!std::is_copy_constructible_v<aio::cancellation_registration> &&
              !std::is_move_constructible_v<aio::cancellation_registration> &&
              !std::is_copy_assignable_v<aio::cancellation_registration>);
static_assert(std::is_same_v<decltype(aio::with_cancellation(make<aio::task<int>>(), make<aio::cancellation_token>())),
                             aio::task<int>>);
static_assert(std::is_same_v<decltype(aio::with_cancellation(make<aio::task<void>>(), make<aio::cancellation_token>())),
                             aio::task<void>>);

namespace {

using log_t = std::vector<std::string>;
using aio::test::now_seconds;

using aio::test::now_ms;
using aio::test::stamp;

}  // namespace

// --- cancelled_error ---------------------------------------------------------------

TEST_CASE("cancelled_error is not caught by catch (const std::exception&)", "[cancellation]") {
  bool caught_as_std = false;
  bool caught_as_cancel = false;
  try {
    try {
      throw aio::cancelled_error{};
    } catch (const std::exception&) {
      caught_as_std = true;
    }
  } catch (const aio::cancelled_error& e) {
    caught_as_cancel = true;
    CHECK(std::string(e.what()).find("cancelled") != std::string::npos);
  }
  CHECK(!caught_as_std);
  CHECK(caught_as_cancel);
}

// --- source, token, registration ------------------------------------------------------

TEST_CASE("cancellation_source and cancellation_token: basic states", "[cancellation]") {
  aio::cancellation_source source;
  aio::cancellation_token token = source.token();
  CHECK(!source.cancellation_requested());
  CHECK(!token.cancellation_requested());
  CHECK(token.can_be_cancelled());
  CHECK_NOTHROW(token.throw_if_cancellation_requested());

  aio::cancellation_source copy = source;  // copies share one state
  aio::cancellation_token token_copy = token;
  CHECK(copy.cancel());
  CHECK(source.cancellation_requested());
  CHECK(token.cancellation_requested());
  CHECK(token_copy.cancellation_requested());
  CHECK(source.token().cancellation_requested());  // a token taken afterwards too
  CHECK(!source.cancel());                         // already requested
  CHECK(!copy.cancel());
  CHECK_THROWS_AS(token.throw_if_cancellation_requested(), aio::cancelled_error);

  aio::cancellation_source other;
  CHECK(!other.token().cancellation_requested());  // sources are independent

  // The state outlives the source while a token refers to it.
  aio::cancellation_token survivor;
  {
    aio::cancellation_source gone;
    survivor = gone.token();
    gone.cancel();
  }
  CHECK(survivor.cancellation_requested());
}

TEST_CASE("a default-constructed token can never be cancelled", "[cancellation]") {
  aio::cancellation_token token;
  CHECK(!token.can_be_cancelled());
  CHECK(!token.cancellation_requested());
  CHECK_NOTHROW(token.throw_if_cancellation_requested());
  int calls = 0;
  {
    aio::cancellation_registration reg{token, [&calls] { ++calls; }};
  }
  CHECK(calls == 0);
}

TEST_CASE("registration callbacks run on cancel, in registration order, once", "[cancellation]") {
  aio::cancellation_source source;
  log_t log;
  aio::cancellation_registration r1{source.token(), [&log] { log.push_back("first"); }};
  aio::cancellation_registration r2{source.token(), [&log] { log.push_back("second"); }};
  aio::cancellation_registration r3{source.token(), [&log] { log.push_back("third"); }};
  CHECK(log.empty());  // nothing before the cancel
  CHECK(source.cancel());
  CHECK(log == log_t{"first", "second", "third"});
  CHECK(!source.cancel());
  CHECK(log.size() == 3);  // once
}

TEST_CASE("a registration made after the cancel runs at once, in its constructor", "[cancellation]") {
  aio::cancellation_source source;
  source.cancel();
  int calls = 0;
  aio::cancellation_registration reg{source.token(), [&calls] { ++calls; }};
  CHECK(calls == 1);
  source.cancel();
  CHECK(calls == 1);
}

TEST_CASE("destroying a registration unregisters its callback", "[cancellation]") {
  aio::cancellation_source source;
  log_t log;
  aio::cancellation_registration kept{source.token(), [&log] { log.push_back("kept"); }};
  {
    aio::cancellation_registration dropped{source.token(), [&log] { log.push_back("dropped"); }};
  }
  // A callback may drop a registration that has not run yet.
  std::optional<aio::cancellation_registration> later;
  aio::cancellation_registration dropper{source.token(), [&log, &later] {
    log.push_back("dropper");
    later.reset();
  }};
  later.emplace(source.token(), [&log] { log.push_back("later"); });
  source.cancel();
  CHECK(log == log_t{"kept", "dropper"});

  // A registration that outlives its source unregisters cleanly.
  std::optional<aio::cancellation_registration> orphan;
  {
    aio::cancellation_source short_lived;
    orphan.emplace(short_lived.token(), [&log] { log.push_back("orphan"); });
  }
  orphan.reset();
  CHECK(log.size() == 2);
}

// --- with_cancellation -------------------------------------------------------------

namespace {
aio::task<int> sleeps_then_value(log_t& log, aio::duration d, int v) {
  log.push_back(stamp("work started"));
  try {
    co_await aio::sleep(d);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("work cancelled"));
    throw;
  }
  co_return v;
}
aio::task<int> with_token(log_t& log, aio::cancellation_token token, aio::duration d) {
  try {
    co_return co_await aio::with_cancellation(sleeps_then_value(log, d, 1), std::move(token));
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("caller got cancelled_error"));
  }
  co_await aio::sleep(1s);  // the token's cancel was taken back: the task goes on
  co_return -1;
}
aio::task<void> token_fires_main() {
  log_t log;
  aio::cancellation_source source;
  auto h = aio::get_running_loop().call_later(1500ms, [source]() mutable { source.cancel(); });
  auto t = aio::create_task(with_token(log, source.token(), 5s));
  const int v = co_await t;
  CHECK(v == -1);
  CHECK(log == log_t{"work started@0", "work cancelled@1500", "caller got cancelled_error@1500"});
  CHECK(now_seconds() == 2.5);
  CHECK(!t.cancelled());
  CHECK(t.cancelling() == 0);  // with_cancellation balanced its own request
}
aio::task<void> token_already_fired_main() {
  log_t log;
  aio::cancellation_source source;
  source.cancel();
  bool cancelled = false;
  try {
    (void)co_await aio::with_cancellation(sleeps_then_value(log, 1s, 1), source.token());
  } catch (const aio::cancelled_error&) {
    cancelled = true;
  }
  CHECK(cancelled);
  CHECK(log.empty());  // the work never started
  CHECK(now_seconds() == 0.0);
}
aio::task<void> token_never_fired_main() {
  log_t log;
  aio::cancellation_source source;
  const int v = co_await aio::with_cancellation(sleeps_then_value(log, 2s, 42), source.token());
  CHECK(v == 42);
  CHECK(now_seconds() == 2.0);
  // The registration is gone with the call: a later cancel does not reach this task.
  CHECK(source.cancel());
  co_await aio::sleep(1s);
  CHECK(now_seconds() == 3.0);

  const int w = co_await aio::with_cancellation(sleeps_then_value(log, 1s, 7), aio::cancellation_token{});
  CHECK(w == 7);
  CHECK(log == log_t{"work started@0", "work started@3000"});
}
aio::task<int> cancels_own_token(log_t& log, aio::cancellation_source source) {
  source.cancel();  // while running: delivered at the next await
  log.push_back(stamp("after cancel"));
  co_await aio::sleep(1s);
  log.push_back("not reached");
  co_return 1;
}
aio::task<void> token_fired_while_running_main() {
  log_t log;
  aio::cancellation_source source;
  bool cancelled = false;
  try {
    (void)co_await aio::with_cancellation(cancels_own_token(log, source), source.token());
  } catch (const aio::cancelled_error&) {
    cancelled = true;
  }
  CHECK(cancelled);
  CHECK(log == log_t{"after cancel@0"});
  CHECK(now_seconds() == 0.0);
}
aio::task<int> outer_cancel_inner(log_t& log, aio::cancellation_token token) {
  try {
    co_return co_await aio::with_cancellation(sleeps_then_value(log, 5s, 1), std::move(token));
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("caller got cancelled_error"));
    throw;
  }
}
aio::task<void> outer_cancel_main() {
  log_t log;
  aio::cancellation_source source;  // never fired
  auto t = aio::create_task(outer_cancel_inner(log, source.token()));
  co_await aio::sleep(1s);
  t.cancel();
  const bool cancelled = co_await aio::test::await_is_cancelled(t);
  CHECK(cancelled);
  CHECK(t.cancelled());
  CHECK(t.cancelling() == 1);  // the outer request is not taken back by with_cancellation
  CHECK(log == log_t{"work started@0", "work cancelled@1000", "caller got cancelled_error@1000"});
}
}  // namespace

TEST_CASE("with_cancellation: the token fires while the work sleeps", "[cancellation]") {
  aio::test::run_test(token_fires_main());
}
TEST_CASE("with_cancellation: a token fired before the call means the work never starts", "[cancellation]") {
  aio::test::run_test(token_already_fired_main());
}
TEST_CASE("with_cancellation: a token that never fires changes nothing", "[cancellation]") {
  aio::test::run_test(token_never_fired_main());
}
TEST_CASE("with_cancellation: a token fired by the running work takes effect at its next await",
          "[cancellation]") {
  aio::test::run_test(token_fired_while_running_main());
}
TEST_CASE("with_cancellation: an outer cancel passes through unchanged", "[cancellation]") {
  aio::test::run_test(outer_cancel_main());
}

// --- linking a token to a task --------------------------------------------------------

namespace {
aio::task<int> long_work(log_t& log) {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::cancelled_error&) {
    log.push_back(stamp("task cancelled"));
    throw;
  }
  co_return 1;
}
aio::task<void> link_main() {
  log_t log;
  aio::cancellation_source source;
  aio::future<int> f = aio::create_task(long_work(log));
  aio::cancellation_registration link{source.token(), [f]() mutable { f.cancel(); }};
  co_await aio::sleep(1s);
  CHECK(source.cancel());
  CHECK(f.cancelling() == 1);
  const bool cancelled = co_await aio::test::await_is_cancelled(f);
  CHECK(cancelled);
  CHECK(f.cancelled());
  CHECK(now_seconds() == 1.0);
  CHECK(log == log_t{"task cancelled@1000"});

  // Linked after the task finished (cancelled before its first step): the cancel finds nothing to do.
  aio::cancellation_source late;
  aio::future<int> g = aio::create_task(long_work(log));
  g.cancel();
  (void)co_await aio::gather_settled(g);
  aio::cancellation_registration link2{late.token(), [g]() mutable { CHECK(!g.cancel()); }};
  late.cancel();
}
}  // namespace

TEST_CASE("a registration linking a token to a create_task future cancels the task", "[cancellation]") {
  aio::test::run_test(link_main());
}
