// 18 — Subprocesses (asyncio.create_subprocess_exec / _shell).
//
// Runs a few programs with pipes, the asyncio way: the child's stdin, stdout
// and stderr are stream writers and readers on the loop, communicate() feeds
// and drains them concurrently, and wait() returns the exit status without
// blocking the loop (a child killed by signal N has returncode -N).

#include <aio/event_loop.hpp>
#include <aio/subprocess.hpp>
#include <aio/tasks.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

/// stdout (and stderr) as pipes, stdin as given.
aio::process_options piped(aio::redirect in = aio::redirect::inherit) {
  aio::process_options o;
  o.stdin_mode = in;
  o.stdout_mode = aio::redirect::pipe;
  o.stderr_mode = aio::redirect::pipe;
  return o;
}

void print_block(const char* label, const std::string& text) {
  if (text.empty()) return;
  std::printf("  %s:\n", label);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::printf("    %s\n", text.substr(start, end - start).c_str());
    start = end + 1;
  }
}

/// Runs `program args...` (in directory `cwd` if given), feeds it `input`,
/// prints what it wrote and its exit code.
aio::task<void> run(std::string program, std::vector<std::string> args, std::string input = {},
                    std::string cwd = {}) {
  std::string shown = program;
  for (auto& a : args) shown += " " + a;
  std::printf("$ %s\n", shown.c_str());
  aio::process_options options = piped(input.empty() ? aio::redirect::devnull : aio::redirect::pipe);
  if (!cwd.empty()) options.cwd = cwd;
  auto starting = aio::create_subprocess_exec(std::move(program), std::move(args), std::move(options));
  aio::process proc = co_await std::move(starting);
  auto talking = proc.communicate(std::move(input));
  auto [out, err] = co_await std::move(talking);
  print_block("stdout", out);
  print_block("stderr", err);
  std::printf("  exit code: %d\n", *proc.returncode());
}

aio::task<void> async_main() {
  // A directory of our own, so that `ls` prints the same thing every time.
  char tmpl[] = "/tmp/aio-example-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  for (const char* name : {"notes.txt", "report.csv", "src"}) {
    const std::string path = dir + "/" + name;
    if (std::string(name) == "src") ::mkdir(path.c_str(), 0700);
    else std::fclose(std::fopen(path.c_str(), "w"));
  }

  // (Each task is named before it is awaited: g++ 12 mishandles a braced list
  // such as {"-1", dir} inside a co_await expression.)
  auto echo = run("echo", {"Hello from a child process"});
  co_await std::move(echo);
  auto ls = run("ls", {"-1", "-p"}, "", dir);  // in our directory (the cwd option)
  co_await std::move(ls);
  auto cat = run("cat", {}, "fed to cat's stdin\nand read back from its stdout\n");
  co_await std::move(cat);
  auto failing = run("ls", {"no-such-file"}, "", dir);  // a message on stderr, exit code 2
  co_await std::move(failing);

  // Reading a child's output line by line as it comes.
  std::printf("$ seq 1 3   (read line by line)\n");
  aio::process_options o;
  o.stdout_mode = aio::redirect::pipe;
  auto starting_seq = aio::create_subprocess_exec("seq", std::vector<std::string>{"1", "3"}, o);
  aio::process seq = co_await std::move(starting_seq);
  for (;;) {
    std::string line = co_await seq.std_out->readline();
    if (line.empty()) break;  // end of stream
    std::printf("  line: %s", line.c_str());
  }
  std::printf("  exit code: %d\n", co_await seq.wait());

  // A shell pipeline.
  std::printf("$ sh -c 'echo one two three | wc -w'\n");
  auto starting_sh = aio::create_subprocess_shell("echo one two three | wc -w", piped());
  aio::process sh = co_await std::move(starting_sh);
  auto talking = sh.communicate();
  auto [words, sh_err] = co_await std::move(talking);
  print_block("stdout", words);
  std::printf("  exit code: %d\n", *sh.returncode());

  // A child that would run for a minute, killed.
  std::printf("$ sleep 60   (killed)\n");
  auto starting_sleep = aio::create_subprocess_exec("sleep", "60");
  aio::process sleeper = co_await std::move(starting_sleep);
  sleeper.kill();
  std::printf("  exit code: %d (killed by SIGKILL, signal 9)\n", co_await sleeper.wait());

  for (const char* name : {"notes.txt", "report.csv"}) ::unlink((dir + "/" + name).c_str());
  ::rmdir((dir + "/src").c_str());
  ::rmdir(dir.c_str());
}

int main() { aio::run(async_main()); }
