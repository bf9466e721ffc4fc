// aio/subprocess.hpp — child processes (asyncio's subprocess.py):
// create_subprocess_exec, create_subprocess_shell and aio::process.
//
// The child's pipes are stream_writer / stream_reader, driven by the loop. Its
// exit is watched through a pidfd (Linux 5.3+; otherwise polled), so waiting
// costs no thread. As in asyncio, programs are looked up in PATH and a child
// killed by signal N has returncode -N. Loop-affine, not thread-safe.
#pragma once

#include <aio/streams.hpp>
#include <aio/task.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace aio {

/// Where a child's standard stream goes (asyncio's stdin=/stdout=/stderr= values).
enum class redirect {
  inherit,  // None: the parent's
  pipe,     // PIPE: a stream on the process object
  devnull,  // DEVNULL
  stdout_,  // STDOUT (stderr only): into the child's stdout
};

struct process_options {
  redirect stdin_mode = redirect::inherit;
  redirect stdout_mode = redirect::inherit;
  redirect stderr_mode = redirect::inherit;
  /// Working directory of the child (default: ours).
  std::optional<std::string> cwd;
  /// The child's whole environment as "NAME=value" (default: ours).
  std::optional<std::vector<std::string>> env;
};

namespace detail {
struct process_state;
}

/// asyncio.subprocess.Process.
class process {
 public:
  process() noexcept = default;
  explicit process(std::shared_ptr<detail::process_state> s);

  /// The pipes asked for with redirect::pipe (asyncio's proc.stdin / stdout /
  /// stderr; these names are macros in C, hence the underscore).
  std::optional<stream_writer> std_in;
  std::optional<stream_reader> std_out;
  std::optional<stream_reader> std_err;

  [[nodiscard]] int pid() const noexcept;
  /// The exit status once the child has exited: its exit code, or -N if signal N
  /// killed it; nullopt while it runs.
  [[nodiscard]] std::optional<int> returncode() const noexcept;

  /// Waits for the child to exit and returns its returncode.
  /// Cancellation: stops waiting; the child runs on (and is still reaped).
  [[nodiscard]] task<int> wait();
  /// Writes `input` to stdin (then closes it), reads stdout and stderr to the
  /// end concurrently, waits for exit; returns {stdout, stderr} (empty for a
  /// stream that is not a pipe).
  /// Cancellation: stops; the child runs on.
  [[nodiscard]] task<std::pair<std::string, std::string>> communicate(std::string input = {});
  void send_signal(int sig);
  /// SIGTERM.
  void terminate();
  /// SIGKILL.
  void kill();

 private:
  std::shared_ptr<detail::process_state> s_;
};

/// asyncio.create_subprocess_exec(program, *args, ...): starts `program`
/// (looked up in PATH) with `args`.
/// Throws: std::system_error naming the program (e.g. ENOENT when not found).
/// Example: examples/18_subprocess.cpp
[[nodiscard]] task<process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                                   process_options options = {});
/// The same with the arguments listed, and the parent's stdin/stdout/stderr.
template <class... A>
  requires(std::is_convertible_v<A, std::string> && ...)
[[nodiscard]] task<process> create_subprocess_exec(std::string program, A&&... args) {
  return create_subprocess_exec(std::move(program), std::vector<std::string>{std::string(std::forward<A>(args))...},
                                process_options{});
}
/// asyncio.create_subprocess_shell(cmd): runs `/bin/sh -c cmd`.
[[nodiscard]] task<process> create_subprocess_shell(std::string command, process_options options = {});

}  // namespace aio
