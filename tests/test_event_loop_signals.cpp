// Tests for loop.add_signal_handler / remove_signal_handler (aio/event_loop.hpp,
// src/signals.cpp): the callback runs on the loop, for signals raised on the
// loop's thread, sent to the process, or sent from another thread; removal;
// invalid signals; the previous disposition restored on removal and on close;
// and a server that stops cleanly when the process gets SIGINT.
#include <aio/event_loop.hpp>

#include "support/catch.hpp"

#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/streams.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

template <class T>
T run_bounded(aio::task<T> t, std::chrono::seconds limit = 5s) {
  return aio::run(aio::wait_for(std::move(t), limit));
}

/// The handler a program had before the loop took over a signal.
volatile std::sig_atomic_t previous_handler_calls = 0;
extern "C" void previous_handler(int) { previous_handler_calls = previous_handler_calls + 1; }

/// Installs `previous_handler` for `sig` for the scope, then restores what was there.
struct custom_disposition {
  int sig;
  struct sigaction saved {};
  explicit custom_disposition(int s) : sig(s) {
    struct sigaction a {};
    a.sa_handler = &previous_handler;
    sigemptyset(&a.sa_mask);
    REQUIRE(::sigaction(sig, &a, &saved) == 0);
    previous_handler_calls = 0;
  }
  ~custom_disposition() { ::sigaction(sig, &saved, nullptr); }
  custom_disposition(const custom_disposition&) = delete;
  custom_disposition& operator=(const custom_disposition&) = delete;
};

void (*current_handler(int sig))(int) {
  struct sigaction now {};
  ::sigaction(sig, nullptr, &now);
  return now.sa_handler;
}

// --- delivery ------------------------------------------------------------------------

struct delivery {
  int calls = 0;
  std::thread::id ran_on;
  std::vector<std::string> log;
};

aio::task<void> raise_on_the_loop(delivery* d) {
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<void> got;
  aio::future<void>* target = &got;
  loop.add_signal_handler(SIGUSR1, [d, target] {
    ++d->calls;
    d->ran_on = std::this_thread::get_id();
    d->log.push_back("handler");
    if (!target->done()) target->set_result();
  });
  loop.call_later(10ms, [d] {
    d->log.push_back("raise");
    ::kill(::getpid(), SIGUSR1);
    d->log.push_back("raised");  // the handler runs later, as a callback on the loop
  });
  co_await got;
  CHECK(loop.remove_signal_handler(SIGUSR1));
}

TEST_CASE("add_signal_handler: a signal sent from call_later runs the callback on the loop", "[signals]") {
  custom_disposition guard{SIGUSR1};
  delivery d;
  run_bounded(raise_on_the_loop(&d));
  CHECK(d.calls == 1);
  CHECK(d.ran_on == std::this_thread::get_id());
  CHECK(d.log == std::vector<std::string>{"raise", "raised", "handler"});
  CHECK(previous_handler_calls == 0);  // ours, not the previous handler, got it
}

aio::task<int> raise_twice() {
  aio::event_loop& loop = aio::get_running_loop();
  int calls = 0;
  int* counter = &calls;
  loop.add_signal_handler(SIGUSR1, [counter] { ++*counter; });
  std::raise(SIGUSR1);  // delivered to this thread before raise() returns
  std::raise(SIGUSR1);
  CHECK(calls == 0);  // never inside the signal handler: on the loop, later
  for (int i = 0; i < 1000 && calls < 2; ++i) co_await aio::sleep(1ms);
  loop.remove_signal_handler(SIGUSR1);
  co_return calls;
}

TEST_CASE("each delivered signal runs the callback once", "[signals]") {
  custom_disposition guard{SIGUSR1};
  CHECK(run_bounded(raise_twice()) == 2);
}

aio::task<std::thread::id> from_another_thread() {
  // Nothing but the signal handler can finish this task: the loop must wait
  // for the signal instead of reporting a deadlock.
  aio::event_loop& loop = aio::get_running_loop();
  aio::future<std::thread::id> got;
  aio::future<std::thread::id>* target = &got;
  loop.add_signal_handler(SIGUSR2, [target] {
    if (!target->done()) target->set_result(std::this_thread::get_id());
  });
  std::thread sender([] {
    std::this_thread::sleep_for(20ms);
    ::kill(::getpid(), SIGUSR2);
  });
  const std::thread::id ran_on = co_await got;
  sender.join();
  loop.remove_signal_handler(SIGUSR2);
  co_return ran_on;
}

TEST_CASE("a signal sent from another thread wakes an otherwise idle loop (no deadlock_error)", "[signals]") {
  custom_disposition guard{SIGUSR2};
  CHECK(run_bounded(from_another_thread()) == std::this_thread::get_id());
}

aio::task<std::vector<std::string>> replace_handler() {
  aio::event_loop& loop = aio::get_running_loop();
  std::vector<std::string> log;
  auto* l = &log;
  loop.add_signal_handler(SIGUSR1, [l] { l->push_back("first"); });
  loop.add_signal_handler(SIGUSR1, [l] { l->push_back("second"); });  // replaces the first
  std::raise(SIGUSR1);
  for (int i = 0; i < 1000 && log.empty(); ++i) co_await aio::sleep(1ms);
  // Raised, then removed before the loop read it: the callback does not run.
  std::raise(SIGUSR1);
  CHECK(loop.remove_signal_handler(SIGUSR1));
  co_await aio::sleep(20ms);
  co_return log;
}

TEST_CASE("add_signal_handler replaces the earlier handler; a removed handler never runs", "[signals]") {
  custom_disposition guard{SIGUSR1};
  CHECK(run_bounded(replace_handler()) == std::vector<std::string>{"second"});
  CHECK(previous_handler_calls == 0);  // both raises happened while aio's handler was installed
}

// --- removal, invalid signals, dispositions ---------------------------------------------------

aio::task<void> removal_results() {
  aio::event_loop& loop = aio::get_running_loop();
  CHECK_FALSE(loop.remove_signal_handler(SIGUSR1));  // never added
  loop.add_signal_handler(SIGUSR1, [] {});
  CHECK(loop.remove_signal_handler(SIGUSR1));
  CHECK_FALSE(loop.remove_signal_handler(SIGUSR1));  // already removed
  CHECK_FALSE(loop.remove_signal_handler(SIGUSR2));
  co_return;
}

TEST_CASE("remove_signal_handler returns true when it removed one, false otherwise", "[signals]") {
  custom_disposition guard{SIGUSR1};
  run_bounded(removal_results());
}

aio::task<void> invalid_signals() {
  aio::event_loop& loop = aio::get_running_loop();
  CHECK_THROWS_AS(loop.add_signal_handler(SIGKILL, [] {}), aio::value_error);
  CHECK_THROWS_AS(loop.add_signal_handler(SIGSTOP, [] {}), aio::value_error);
  CHECK_THROWS_AS(loop.add_signal_handler(0, [] {}), aio::value_error);
  CHECK_THROWS_AS(loop.add_signal_handler(-1, [] {}), aio::value_error);
  CHECK_THROWS_AS(loop.add_signal_handler(NSIG, [] {}), aio::value_error);
  CHECK_FALSE(loop.remove_signal_handler(SIGKILL));
  co_return;
}

TEST_CASE("add_signal_handler rejects SIGKILL, SIGSTOP and invalid numbers with value_error", "[signals]") {
  run_bounded(invalid_signals());
}

aio::task<bool> install_and_remove(int sig) {
  aio::event_loop& loop = aio::get_running_loop();
  loop.add_signal_handler(sig, [] {});
  const bool replaced = current_handler(sig) != &previous_handler;
  CHECK(loop.remove_signal_handler(sig));
  co_return replaced;
}

TEST_CASE("remove_signal_handler restores the previous disposition", "[signals]") {
  custom_disposition guard{SIGUSR2};
  CHECK(run_bounded(install_and_remove(SIGUSR2)));  // while installed, aio's handler was in place
  CHECK(current_handler(SIGUSR2) == &previous_handler);
  std::raise(SIGUSR2);
  CHECK(previous_handler_calls == 1);
}

TEST_CASE("remove_signal_handler restores SIG_DFL and SIG_IGN too", "[signals]") {
  struct sigaction saved {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  REQUIRE(::sigaction(SIGUSR2, &ign, &saved) == 0);
  CHECK(run_bounded(install_and_remove(SIGUSR2)));
  CHECK(current_handler(SIGUSR2) == SIG_IGN);
  struct sigaction dfl = ign;
  dfl.sa_handler = SIG_DFL;
  REQUIRE(::sigaction(SIGUSR2, &dfl, nullptr) == 0);
  CHECK(run_bounded(install_and_remove(SIGUSR2)));
  CHECK(current_handler(SIGUSR2) == SIG_DFL);
  ::sigaction(SIGUSR2, &saved, nullptr);
}

aio::task<void> leave_installed() {
  aio::get_running_loop().add_signal_handler(SIGUSR2, [] {});
  co_return;  // not removed: closing the loop (at the end of aio::run) restores it
}

TEST_CASE("closing the loop restores the dispositions of handlers still installed", "[signals]") {
  custom_disposition guard{SIGUSR2};
  run_bounded(leave_installed());
  CHECK(current_handler(SIGUSR2) == &previous_handler);
}

// --- a server that stops on SIGINT ----------------------------------------------------------

aio::task<void> echo_once(aio::stream_reader r, aio::stream_writer w) {
  std::string line = co_await r.readline();
  w.write(line);
  co_await w.drain();
}

struct stop_report {
  std::string echoed;
  bool serve_forever_cancelled = false;
  bool serving_after = true;
  int connect_after = 0;
  std::vector<std::string> log;
};

aio::task<stop_report> server_stops_on_sigint() {
  stop_report rep;
  aio::event_loop& loop = aio::get_running_loop();
  auto starting = aio::start_server(echo_once, "127.0.0.1", 0);
  aio::server srv = co_await std::move(starting);
  const std::uint16_t port = srv.port();
  aio::future<void> serving = aio::create_task(srv.serve_forever());
  aio::future<void>* to_cancel = &serving;
  std::vector<std::string>* log = &rep.log;
  // What a program does for Ctrl-C: stop serving, cleanly.
  loop.add_signal_handler(SIGINT, [to_cancel, log] {
    log->push_back("SIGINT");
    to_cancel->cancel();
  });

  auto connecting = aio::open_connection("127.0.0.1", port);
  auto [r, w] = co_await std::move(connecting);
  w.write("still serving\n");
  rep.echoed = co_await r.readline();
  w.close();

  rep.log.push_back("kill");
  ::kill(::getpid(), SIGINT);
  try {
    co_await serving;
  } catch (const aio::cancelled_error&) {
    rep.serve_forever_cancelled = true;
  }
  rep.log.push_back("stopped");
  rep.serving_after = srv.is_serving();
  co_await srv.wait_closed();
  try {
    auto again = aio::open_connection("127.0.0.1", port);
    auto rw = co_await std::move(again);
    rw.second.close();
  } catch (const std::system_error& e) {
    rep.connect_after = e.code().value();
  }
  CHECK(loop.remove_signal_handler(SIGINT));
  co_return rep;
}

TEST_CASE("a server stops cleanly when its own process gets SIGINT", "[signals]") {
  const auto before = current_handler(SIGINT);
  const stop_report rep = run_bounded(server_stops_on_sigint());
  CHECK(rep.echoed == "still serving\n");
  CHECK(rep.serve_forever_cancelled);
  CHECK_FALSE(rep.serving_after);
  CHECK(rep.connect_after == ECONNREFUSED);
  CHECK(rep.log == std::vector<std::string>{"kill", "SIGINT", "stopped"});
  CHECK(current_handler(SIGINT) == before);  // whoever had SIGINT before (Catch2) has it back
}

}  // namespace
