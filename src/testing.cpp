#include <aio/testing.hpp>

#include <aio/detail/task_context.hpp>
#include <aio/exceptions.hpp>
#include <aio/log.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::testing {
namespace {

/// The session of the aio::testing::run in progress on this thread, for elapsed().
struct current_test {
  time_point start;
};
thread_local const current_test* current = nullptr;

/// "1.5 s", "3600 s", "0.000001 s": seconds, without trailing zeros.
std::string format_seconds(duration d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", std::chrono::duration<double>(d).count());
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s + " s";
}

void check_elapsed(const char* who, duration elapsed, duration expected, duration tolerance,
                   call_site where) {
  const duration off = elapsed > expected ? elapsed - expected : expected - elapsed;
  const duration allowed = tolerance < duration::zero() ? -tolerance : tolerance;
  if (off <= allowed) return;
  std::string msg = std::string(who) + ": expected " + format_seconds(expected) + " of loop time";
  if (allowed > duration::zero()) msg += " (± " + format_seconds(allowed) + ")";
  msg += ", but " + format_seconds(elapsed) + " elapsed (" + where.file + ":" + std::to_string(where.line) +
         ")";
  throw test_failure(std::move(msg));
}

/// The names of the tasks `loop` still tracks (create_task's, not yet finished).
}  // namespace

// --- test_failure --------------------------------------------------------------

test_failure::test_failure(std::string message)
    : message_(std::make_shared<const std::string>(std::move(message))) {}
const char* test_failure::what() const noexcept { return message_->c_str(); }

// --- elapsed time --------------------------------------------------------------

duration elapsed() {
  if (current == nullptr || running_loop() == nullptr)
    throw invalid_state_error(
        "aio::testing::elapsed(): no aio::testing::run is in progress on this thread; measure with an "
        "aio::testing::stopwatch instead");
  return clock::now() - current->start;
}

double elapsed_seconds() { return std::chrono::duration<double>(elapsed()).count(); }

void require_elapsed(duration expected, duration tolerance, call_site where) {
  check_elapsed("aio::testing::require_elapsed", elapsed(), expected, tolerance, where);
}

stopwatch::stopwatch() noexcept : start_(clock::now()) {}
duration stopwatch::elapsed() const noexcept { return clock::now() - start_; }
double stopwatch::seconds() const noexcept { return std::chrono::duration<double>(elapsed()).count(); }
void stopwatch::restart() noexcept { start_ = clock::now(); }
void stopwatch::require_elapsed(duration expected, duration tolerance, call_site where) const {
  check_elapsed("aio::testing::stopwatch::require_elapsed", elapsed(), expected, tolerance, where);
}

// --- test_session --------------------------------------------------------------

namespace detail {

struct test_session::state {
  std::vector<std::string> reports;  // what aio::log received during the test
  log_handler previous;              // restored at the end
  current_test test;
  const current_test* outer = nullptr;
  bool finished = false;
};

test_session::test_session(options opts) : opts_(opts), state_(std::make_unique<state>()) {
  // aio::log calls the handler under its own mutex, so reports from other
  // threads (a thread_pool job) are serialised with each other and with the
  // set_log_handler that ends the capture.
  state_->previous = set_log_handler([s = state_.get()](std::string_view m) { s->reports.emplace_back(m); });
  state_->test.start = loop_.time();
  state_->outer = std::exchange(current, &state_->test);
}

void test_session::finish() noexcept {
  if (state_->finished) return;
  state_->finished = true;
  loop_.cancel_all_tasks();  // may report, e.g. a task that fails while it is cancelled
  try {
    loop_.close();  // reports the tasks that refused to finish, then destroys them
  } catch (...) {   // only when running: not here
  }
  set_log_handler(std::move(state_->previous));
  current = state_->outer;
}

test_session::~test_session() {
  if (state_->finished) return;
  finish();
  // The test threw: its exception tells the story, but what aio reported
  // must not be lost either.
  for (const std::string& m : state_->reports) aio::log(m);
}

void test_session::check() {
  std::vector<std::string> pending;
  if (loop_.pending_tasks() > 0) pending = loop_.pending_task_names();
  finish();

  std::string msg;
  if (opts_.fail_on_pending_tasks && !pending.empty()) {
    msg = "aio::testing: the test returned with " + std::to_string(pending.size()) +
          (pending.size() == 1 ? " task" : " tasks") + " still pending: ";
    for (std::size_t i = 0; i < pending.size(); ++i) msg += (i ? ", '" : "'") + pending[i] + "'";
    msg += ". Await every task the test creates (cancel it first if it should stop) before the test "
           "returns; aio::testing has now cancelled and awaited ";
    msg += pending.size() == 1 ? "it." : "them.";
  }
  if (!state_->reports.empty()) {
    if (opts_.fail_on_log_reports) {
      if (!msg.empty()) msg += "\n";
      msg += "aio::testing: aio reported " + std::to_string(state_->reports.size()) +
             (state_->reports.size() == 1 ? " problem" : " problems") + " during the test:";
      for (const std::string& m : state_->reports) msg += "\n  " + m;
    } else {
      for (const std::string& m : state_->reports) aio::log(m);
    }
  }
  if (!msg.empty()) throw test_failure(std::move(msg));
}

}  // namespace detail
}  // namespace aio::testing
