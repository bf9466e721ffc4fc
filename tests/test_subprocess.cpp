// Tests for aio/subprocess.hpp: create_subprocess_exec / _shell, pipes as
// stream readers and writers, communicate, wait, returncode, signals, the
// redirect options (pipe, devnull, stderr into stdout), cwd and env, and
// cancellation of wait().
//
// Real child processes (coreutils and /bin/sh); every test body runs under a
// deadline, so a lost wake-up fails instead of hanging.
#include <aio/subprocess.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

static_assert(std::is_same_v<decltype(aio::create_subprocess_exec("p", std::vector<std::string>{})),
                             aio::task<aio::process>>);
static_assert(std::is_same_v<decltype(aio::create_subprocess_exec("p", "a", "b")), aio::task<aio::process>>);
static_assert(std::is_same_v<decltype(aio::create_subprocess_shell("c")), aio::task<aio::process>>);
static_assert(std::is_same_v<decltype(std::declval<aio::process&>().wait()), aio::task<int>>);
static_assert(std::is_same_v<decltype(std::declval<aio::process&>().communicate()),
                             aio::task<std::pair<std::string, std::string>>>);
static_assert(std::is_same_v<decltype(std::declval<const aio::process&>().returncode()), std::optional<int>>);

namespace {

using clk = std::chrono::steady_clock;
double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

template <class T>
T run_bounded(aio::task<T> t, std::chrono::seconds limit = 5s) {
  return aio::run(aio::wait_for(std::move(t), limit));
}

aio::process_options pipes(bool in, bool out, bool err) {
  aio::process_options o;
  o.stdin_mode = in ? aio::redirect::pipe : aio::redirect::inherit;
  o.stdout_mode = out ? aio::redirect::pipe : aio::redirect::inherit;
  o.stderr_mode = err ? aio::redirect::pipe : aio::redirect::inherit;
  return o;
}

/// create_subprocess_exec. Callers name the task before awaiting it
/// (`auto spawning = spawn(...)`): g++ 12 mishandles braced temporaries such as
/// {"-c", "..."} inside a co_await operand.
aio::task<aio::process> spawn(std::string program, std::vector<std::string> args, aio::process_options o) {
  auto starting = aio::create_subprocess_exec(std::move(program), std::move(args), std::move(o));
  co_return co_await std::move(starting);
}

struct run_result {
  std::string out, err;
  std::optional<int> code;
  int waited = INT_MIN;
};

aio::task<run_result> communicate_with(std::string program, std::vector<std::string> args, aio::process_options o,
                                       std::string input) {
  auto spawning = spawn(std::move(program), std::move(args), std::move(o));
  aio::process p = co_await std::move(spawning);
  CHECK(p.pid() > 0);
  auto talking = p.communicate(std::move(input));
  auto [out, err] = co_await std::move(talking);
  run_result r;
  r.out = std::move(out);
  r.err = std::move(err);
  r.code = p.returncode();
  r.waited = co_await p.wait();  // after exit, wait() returns at once
  co_return r;
}

// --- round trips --------------------------------------------------------------------

TEST_CASE("cat round trip through communicate", "[subprocess]") {
  const run_result r = run_bounded(communicate_with("cat", {}, pipes(true, true, true), "hello\nworld\n"));
  CHECK(r.out == "hello\nworld\n");
  CHECK(r.err.empty());
  CHECK(r.code == 0);
  CHECK(r.waited == 0);
}

TEST_CASE("a 4 MiB communicate round trip through cat", "[subprocess]") {
  std::string input(4u << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>((i * 7 + i / 1000) & 0xff);
  const auto t0 = clk::now();
  const run_result r = run_bounded(communicate_with("cat", {}, pipes(true, true, false), input));
  CHECK(r.out.size() == input.size());
  CHECK((r.out == input));
  CHECK(r.code == 0);
  CHECK(ms_since(t0) < 4000.0);
}

aio::task<std::vector<std::string>> lines_of(std::string program, std::vector<std::string> args, int* code) {
  auto spawning = spawn(std::move(program), std::move(args), pipes(false, true, false));
  aio::process p = co_await std::move(spawning);
  REQUIRE(p.std_out.has_value());
  CHECK_FALSE(p.std_in.has_value());
  CHECK_FALSE(p.std_err.has_value());
  std::vector<std::string> lines;
  for (;;) {
    std::string line = co_await p.std_out->readline();
    if (line.empty()) break;
    lines.push_back(line);
  }
  CHECK(p.std_out->at_eof());
  *code = co_await p.wait();
  co_return lines;
}

TEST_CASE("stdout as a pipe, read line by line", "[subprocess]") {
  int code = -1;
  const auto lines = run_bounded(lines_of("seq", {"1", "5"}, &code));
  CHECK(lines == std::vector<std::string>{"1\n", "2\n", "3\n", "4\n", "5\n"});
  CHECK(code == 0);
}

aio::task<std::vector<std::string>> interactive_cat() {
  // A conversation: each line written is read back before the next is sent.
  auto spawning = spawn("cat", {}, pipes(true, true, false));
  aio::process p = co_await std::move(spawning);
  std::vector<std::string> echoed;
  for (int i = 0; i < 3; ++i) {
    p.std_in->write("line " + std::to_string(i) + "\n");
    co_await p.std_in->drain();
    echoed.push_back(co_await p.std_out->readline());
  }
  p.std_in->close();  // cat sees end of input and exits
  std::string rest = co_await p.std_out->read(-1);
  CHECK(rest.empty());
  const int code = co_await p.wait();
  CHECK(code == 0);
  co_return echoed;
}

TEST_CASE("stdin and stdout pipes: a line-by-line conversation with cat", "[subprocess]") {
  CHECK(run_bounded(interactive_cat()) == std::vector<std::string>{"line 0\n", "line 1\n", "line 2\n"});
}

// --- exit status ------------------------------------------------------------------------

aio::task<int> exit_code_of(std::string program, std::vector<std::string> args) {
  auto spawning = spawn(std::move(program), std::move(args), aio::process_options{});
  aio::process p = co_await std::move(spawning);
  CHECK_FALSE(p.returncode().has_value());  // running (or at least not yet reaped)
  const int code = co_await p.wait();
  CHECK(p.returncode() == code);
  co_return code;
}

TEST_CASE("a nonzero exit code is the returncode", "[subprocess]") {
  CHECK(run_bounded(exit_code_of("sh", {"-c", "exit 3"})) == 3);
  CHECK(run_bounded(exit_code_of("false", {})) == 1);
  CHECK(run_bounded(exit_code_of("true", {})) == 0);
}

aio::task<std::pair<int, int>> killed() {
  auto spawning_a = spawn("sleep", {"10"}, aio::process_options{});
  aio::process a = co_await std::move(spawning_a);
  auto spawning_b = spawn("sleep", {"10"}, aio::process_options{});
  aio::process b = co_await std::move(spawning_b);
  const auto t0 = clk::now();
  a.kill();
  b.terminate();
  const int ca = co_await a.wait();
  const int cb = co_await b.wait();
  CHECK(ms_since(t0) < 2000.0);
  a.kill();  // after exit: harmless (the pid may belong to someone else by now)
  co_return std::pair<int, int>{ca, cb};
}

TEST_CASE("a child killed by signal N has returncode -N (SIGKILL -9, SIGTERM -15)", "[subprocess]") {
  const auto [k, t] = run_bounded(killed());
  CHECK(k == -9);
  CHECK(t == -15);
}

aio::task<std::string> not_found(int* code) {
  try {
    auto spawning = spawn("aio-no-such-program-xyz", {"arg"}, aio::process_options{});
    aio::process p = co_await std::move(spawning);
    (void)p;
  } catch (const std::system_error& e) {
    *code = e.code().value();
    co_return e.what();
  }
  co_return "started";
}

TEST_CASE("a program that does not exist: std::system_error(ENOENT) naming it", "[subprocess]") {
  int code = 0;
  const std::string what = run_bounded(not_found(&code));
  CHECK(code == ENOENT);
  CHECK_THAT(what, Catch::Contains("aio-no-such-program-xyz"));
}

aio::task<bool> stdout_redirect_rejected() {
  aio::process_options o;
  o.stdout_mode = aio::redirect::stdout_;
  try {
    auto spawning = spawn("true", {}, o);
    aio::process p = co_await std::move(spawning);
    (void)p;
  } catch (const aio::value_error&) {
    co_return true;
  }
  co_return false;
}

TEST_CASE("redirect::stdout_ is only valid for stderr", "[subprocess]") {
  CHECK(run_bounded(stdout_redirect_rejected()));
}

// --- redirections, cwd, env, shell ----------------------------------------------------------

TEST_CASE("stderr redirected into stdout", "[subprocess]") {
  aio::process_options o = pipes(false, true, false);
  o.stderr_mode = aio::redirect::stdout_;
  const run_result r = run_bounded(communicate_with("sh", {"-c", "echo out; echo err 1>&2; echo out2"}, o, ""));
  CHECK(r.out == "out\nerr\nout2\n");
  CHECK(r.err.empty());
  CHECK(r.code == 0);
}

TEST_CASE("stderr as its own pipe", "[subprocess]") {
  const run_result r =
      run_bounded(communicate_with("sh", {"-c", "echo out; echo err 1>&2; exit 4"}, pipes(false, true, true), ""));
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.code == 4);
}

TEST_CASE("devnull for stdin and for stdout", "[subprocess]") {
  aio::process_options in_null = pipes(false, true, false);
  in_null.stdin_mode = aio::redirect::devnull;
  const run_result a = run_bounded(communicate_with("cat", {}, in_null, ""));
  CHECK(a.out.empty());  // cat read end of file at once
  CHECK(a.code == 0);

  aio::process_options out_null;
  out_null.stdout_mode = aio::redirect::devnull;
  out_null.stderr_mode = aio::redirect::pipe;
  const run_result b = run_bounded(communicate_with("sh", {"-c", "echo discarded; echo kept 1>&2"}, out_null, ""));
  CHECK(b.out.empty());
  CHECK(b.err == "kept\n");
  CHECK(b.code == 0);
}

TEST_CASE("the cwd option", "[subprocess]") {
  char tmpl[] = "/tmp/aio-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  char* real = ::realpath(tmpl, nullptr);
  REQUIRE(real != nullptr);
  const std::string dir = real;
  std::free(real);
  aio::process_options o = pipes(false, true, false);
  o.cwd = dir;
  const run_result r = run_bounded(communicate_with("pwd", {"-P"}, o, ""));
  ::rmdir(dir.c_str());
  CHECK(r.out == dir + "\n");
  CHECK(r.code == 0);
}

TEST_CASE("the env option replaces the whole environment", "[subprocess]") {
  aio::process_options o = pipes(false, true, false);
  o.env = std::vector<std::string>{"AIO_A=1", "AIO_B=two words"};
  const run_result r = run_bounded(communicate_with("env", {}, o, ""));
  CHECK(r.out == "AIO_A=1\nAIO_B=two words\n");
  CHECK(r.code == 0);
}

aio::task<run_result> shell(std::string command, std::string input) {
  auto starting = aio::create_subprocess_shell(std::move(command), pipes(true, true, false));
  aio::process p = co_await std::move(starting);
  auto talking = p.communicate(std::move(input));
  auto [out, err] = co_await std::move(talking);
  run_result r;
  r.out = out;
  r.code = p.returncode();
  co_return r;
}

TEST_CASE("create_subprocess_shell runs /bin/sh -c with pipes and expansions", "[subprocess]") {
  const run_result r = run_bounded(shell("echo $((6 * 7)); tr a-z A-Z; exit 2", "shout\n"));
  CHECK(r.out == "42\nSHOUT\n");
  CHECK(r.code == 2);
}

TEST_CASE("communicate with a child that exits without reading its input", "[subprocess]") {
  // Writing to a pipe nobody reads must be EPIPE, quietly ignored, not SIGPIPE.
  const std::string big(1u << 20, 'x');
  const run_result r = run_bounded(communicate_with("true", {}, pipes(true, true, false), big));
  CHECK(r.out.empty());
  CHECK(r.code == 0);
}

aio::task<int> listed_arguments() {
  auto starting = aio::create_subprocess_exec("true", "one", std::string("two"));
  aio::process p = co_await std::move(starting);
  CHECK_FALSE(p.std_in.has_value());
  CHECK_FALSE(p.std_out.has_value());
  co_return co_await p.wait();
}

TEST_CASE("create_subprocess_exec with the arguments listed inherits our streams", "[subprocess]") {
  CHECK(run_bounded(listed_arguments()) == 0);
}

// --- cancellation, reaping, virtual time ---------------------------------------------------

aio::task<int> wait_task(aio::process p) { co_return co_await p.wait(); }

struct reap_report {
  bool cancelled = false;
  bool running_after_cancel = false;
  int code = INT_MIN;
  std::optional<int> returncode;
  int waitpid_errno = 0;
};

aio::task<reap_report> cancelled_wait_then_wait_again() {
  reap_report rep;
  // The child waits for a line on stdin, then exits 5.
  auto spawning = spawn("sh", {"-c", "read x; exit 5"}, pipes(true, false, false));
  aio::process p = co_await std::move(spawning);
  aio::future<int> waiting = aio::create_task(wait_task(p));
  co_await aio::sleep(10ms);
  waiting.cancel();
  try {
    (void)co_await waiting;
  } catch (const aio::cancelled_error&) {
    rep.cancelled = true;
  }
  rep.running_after_cancel = !p.returncode().has_value() && ::kill(p.pid(), 0) == 0;
  p.std_in->write("go\n");
  p.std_in->close();
  rep.code = co_await p.wait();
  rep.returncode = p.returncode();
  // Reaped by aio: the pid is no longer our child.
  errno = 0;
  int status = 0;
  if (::waitpid(p.pid(), &status, WNOHANG) < 0) rep.waitpid_errno = errno;
  co_return rep;
}

TEST_CASE("wait() cancelled: the child runs on and a later wait() gets its returncode", "[subprocess]") {
  const reap_report rep = run_bounded(cancelled_wait_then_wait_again());
  CHECK(rep.cancelled);
  CHECK(rep.running_after_cancel);
  CHECK(rep.code == 5);
  CHECK(rep.returncode == 5);
  CHECK(rep.waitpid_errno == ECHILD);
}

aio::task<reap_report> reaped_without_waiting() {
  reap_report rep;
  auto spawning = spawn("sh", {"-c", "exit 6"}, aio::process_options{});
  aio::process p = co_await std::move(spawning);
  aio::future<int> waiting = aio::create_task(wait_task(p));
  waiting.cancel();  // never waited for again...
  try {
    (void)co_await waiting;
  } catch (const aio::cancelled_error&) {
    rep.cancelled = true;
  }
  // ...and still reaped by the loop when it exits: no zombie.
  for (int i = 0; i < 2000 && !p.returncode(); ++i) co_await aio::sleep(1ms);
  rep.returncode = p.returncode();
  errno = 0;
  int status = 0;
  if (::waitpid(p.pid(), &status, WNOHANG) < 0) rep.waitpid_errno = errno;
  co_return rep;
}

TEST_CASE("a child whose wait() was cancelled is still reaped when it exits", "[subprocess]") {
  const reap_report rep = run_bounded(reaped_without_waiting());
  CHECK(rep.cancelled);
  CHECK(rep.returncode == 6);
  CHECK(rep.waitpid_errno == ECHILD);
}

aio::task<int> long_nap() {
  co_await aio::sleep(30s);
  co_return -1;
}

aio::task<std::pair<std::size_t, double>> child_vs_virtual_timer() {
  auto spawning = spawn("sleep", {"0.05"}, aio::process_options{});
  aio::process p = co_await std::move(spawning);
  auto race = aio::when_any(wait_task(p), long_nap());
  auto r = co_await std::move(race);
  co_return std::pair<std::size_t, double>{r.index, aio::test::now_seconds()};
}

TEST_CASE("on a virtual-time loop, a running child keeps time from jumping", "[subprocess]") {
  const auto [index, seconds] = aio::test::run_test(child_vs_virtual_timer());
  CHECK(index == 0);
  CHECK(seconds < 5.0);
}

}  // namespace

namespace {

aio::task<void> start_and_wait(aio::process* out) {
  *out = co_await aio::create_subprocess_exec("true");
  (void)co_await out->wait();
}

aio::task<void> start_and_drop() {
  {
    aio::process p = co_await aio::create_subprocess_exec("sleep", "0.05");
  }  // dropped while the child runs: its watch frees itself when the child exits
  co_await aio::sleep(std::chrono::milliseconds(200));
}

}  // namespace

TEST_CASE("a process object may outlive its loop once the child was reaped", "[subprocess]") {
  aio::process p;
  aio::run(start_and_wait(&p));
  CHECK(p.returncode() == 0);
}  // p destroyed here, after the loop: must not touch it

TEST_CASE("a process dropped while its child runs is reaped when the child exits", "[subprocess]") {
  aio::run(start_and_drop());  // real time: the exit arrives through the pidfd
}
