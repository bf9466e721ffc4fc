// docs/reference/subprocess.md: create_subprocess_exec / _shell and process.
#include <aio/event_loop.hpp>
#include <aio/subprocess.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;

// [communicate]
aio::task<void> communicate() {
  aio::process_options opts;
  opts.stdin_mode = aio::redirect::pipe;
  opts.stdout_mode = aio::redirect::pipe;
  std::vector<std::string> args{"a-z", "A-Z"};  // named first: no braced temporary in a co_await
  aio::process p = co_await aio::create_subprocess_exec("tr", args, opts);
  auto [out, err] = co_await p.communicate("hello from the parent\n");
  std::printf("stdout: %sreturncode: %d\n", out.c_str(), *p.returncode());
}
// [/communicate]

// [shell]
aio::task<void> shell() {
  aio::process_options opts;
  opts.stdout_mode = aio::redirect::pipe;
  opts.stderr_mode = aio::redirect::stdout_;  // 2>&1
  aio::process p = co_await aio::create_subprocess_shell("echo out; echo err >&2; exit 3", opts);
  std::string first = co_await p.std_out->readline();
  std::string second = co_await p.std_out->readline();
  int rc = co_await p.wait();
  std::printf("%s%sexit status %d\n", first.c_str(), second.c_str(), rc);
}
// [/shell]

// [kill]
aio::task<void> kills() {
  aio::process p = co_await aio::create_subprocess_exec("sleep", "30");
  std::printf("returncode while running: %s\n", p.returncode() ? "set" : "nullopt");
  p.kill();
  int rc = co_await p.wait();
  std::printf("killed: returncode %d (-SIGKILL)\n", rc);
}
// [/kill]

// [not_found]
aio::task<void> not_found() {
  try {
    aio::process p = co_await aio::create_subprocess_exec("no-such-program-aio");
  } catch (const std::system_error& e) {
    std::printf("system_error: %s\n", e.code() == std::errc::no_such_file_or_directory ? "ENOENT" : e.what());
  }
}
// [/not_found]

int main() {
  aio::run(communicate());
  aio::run(shell());
  aio::run(kills());
  aio::run(not_found());
}
