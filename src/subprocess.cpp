#include <aio/subprocess.hpp>

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

extern char** environ;

namespace aio {
namespace detail {

/// Watches one child; reaps it exactly once and completes `exited`.
struct process_state : io_waiter {
  event_loop* loop = nullptr;
  std::shared_ptr<event_loop* const> loop_alive;  // null once the loop is closed
  pid_t pid = -1;
  io_registration pidfd;  // readable when the child exits
  future<int> exited;
  std::optional<int> returncode;
  bool watching = false;
  std::shared_ptr<process_state> self;  // alive while watching, even if the process object is gone

  ~process_state() { stop_watching_pidfd(); }

  /// Unregisters and closes the pidfd. Done as soon as the child is reaped,
  /// so that a process object may outlive its loop (the loop is not touched
  /// again); otherwise at destruction, if the loop still exists.
  void stop_watching_pidfd() noexcept {
    if (pidfd.fd < 0) return;
    if (loop_alive && *loop_alive) loop->io().remove(pidfd);
    ::close(pidfd.fd);
    pidfd.fd = -1;
  }

  /// Non-blocking reap; true once the child has exited.
  bool try_reap() noexcept {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == 0) return false;
    if (r < 0) returncode = 255;  // reaped elsewhere (a SIGCHLD handler of the program): unknown
    else if (WIFEXITED(status)) returncode = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) returncode = -WTERMSIG(status);
    else return false;  // stopped / continued
    finish();
    return true;
  }
  void finish() noexcept {
    stop_watching_pidfd();
    exited.set_result(*returncode);
    watching = false;
    loop->remove_external_work();
    auto keep = std::move(self);  // may destroy *this when it goes
  }

  static void on_exit(io_waiter* w) noexcept {
    auto* st = static_cast<process_state*>(w);
    if (!st->try_reap()) st->pidfd.reader = st;  // spurious: wait again
  }
  /// Without pidfd (kernels before 5.3): look every 20 ms.
  static void poll_later(std::shared_ptr<process_state> st) {
    st->loop->call_later(std::chrono::milliseconds(20), [st] {
      if (st->watching && !st->try_reap()) poll_later(st);
    });
  }

  void watch(const std::shared_ptr<process_state>& me) {
    watching = true;
    self = me;
    loop->add_external_work();  // the child's exit is still to come: not a deadlock
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
      ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
      pidfd.fd = static_cast<int>(fd);
      on_ready = &on_exit;
      loop->io().add(pidfd);
      pidfd.reader = this;
    } else {
      poll_later(me);
    }
  }
};

}  // namespace detail

namespace {

struct spawn_plan {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  spawn_plan() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~spawn_plan() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

/// Both ends close-on-exec; the child gets its end through dup2 (which clears it).
void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "aio: pipe2");
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Writing to a pipe whose reader is gone must be an EPIPE error, not a SIGPIPE
/// that kills us (Python ignores SIGPIPE for the same reason). Only replaces
/// the default disposition.
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction old {};
    ::sigaction(SIGPIPE, nullptr, &old);
    if (old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

task<int> wait_exit(std::shared_ptr<detail::process_state> st) {
  future<int> exited = st->exited;
  co_return co_await shield(exited);  // our cancellation must not complete it for other waiters
}

task<void> feed_and_close(std::optional<stream_writer> in, std::string input) {
  if (!in) co_return;
  stream_writer& w = *in;
  try {
    if (!input.empty()) {
      w.write(input);
      co_await w.drain();
    }
  } catch (const std::system_error& e) {
    // The child stopped reading (EPIPE / ECONNRESET): asyncio ignores this too.
    if (e.code().value() != EPIPE && e.code().value() != ECONNRESET) throw;
  }
  w.close();
}

task<std::string> read_all(std::optional<stream_reader> r) {
  if (!r) co_return std::string{};
  co_return co_await r->read(-1);
}

task<std::pair<std::string, std::string>> communicate_impl(std::shared_ptr<detail::process_state> st,
                                                           std::optional<stream_writer> in,
                                                           std::optional<stream_reader> out,
                                                           std::optional<stream_reader> err, std::string input) {
  // All three at once: a child that writes a lot before it has read all its
  // input must not deadlock against us.
  auto all = gather(feed_and_close(std::move(in), std::move(input)), read_all(std::move(out)), read_all(std::move(err)));
  auto [fed, o, e] = co_await std::move(all);
  (void)fed;
  co_await wait_exit(st);
  co_return std::pair<std::string, std::string>{std::move(o), std::move(e)};
}

}  // namespace

process::process(std::shared_ptr<detail::process_state> s) : s_(std::move(s)) {}
int process::pid() const noexcept { return s_ ? s_->pid : -1; }
std::optional<int> process::returncode() const noexcept { return s_ ? s_->returncode : std::nullopt; }
task<int> process::wait() { return wait_exit(s_); }
task<std::pair<std::string, std::string>> process::communicate(std::string input) {
  return communicate_impl(s_, std_in, std_out, std_err, std::move(input));
}
void process::send_signal(int sig) {
  if (s_->returncode) return;  // already reaped: the pid may belong to someone else now
  if (::kill(s_->pid, sig) < 0 && errno != ESRCH)
    throw std::system_error(errno, std::generic_category(), "aio: kill(" + std::to_string(s_->pid) + ")");
}
void process::terminate() { send_signal(SIGTERM); }
void process::kill() { send_signal(SIGKILL); }

task<process> create_subprocess_exec(std::string program, std::vector<std::string> args, process_options options) {
  event_loop& loop = get_running_loop();
  if (options.stdin_mode == redirect::stdout_ || options.stdout_mode == redirect::stdout_)
    throw value_error("aio::create_subprocess_exec(): redirect::stdout_ is only valid for stderr");

  spawn_plan plan;
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  auto close_all = [&] {
    for (auto& p : pipes)
      for (int& fd : p)
        if (fd >= 0) ::close(std::exchange(fd, -1));
  };
  const redirect modes[3] = {options.stdin_mode, options.stdout_mode, options.stderr_mode};
  try {
    for (int i = 0; i < 3; ++i) {
      if (modes[i] == redirect::pipe) {
        make_pipe(pipes[i]);
        const int child_end = i == 0 ? pipes[i][0] : pipes[i][1];
        posix_spawn_file_actions_adddup2(&plan.actions, child_end, i);
      } else if (modes[i] == redirect::devnull) {
        posix_spawn_file_actions_addopen(&plan.actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
      } else if (modes[i] == redirect::stdout_) {
        posix_spawn_file_actions_adddup2(&plan.actions, 1, 2);
      }
    }
  } catch (...) {
    close_all();
    throw;
  }
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&plan.actions, options.cwd->c_str());
  if (options.stdin_mode == redirect::pipe) ignore_sigpipe_once();
  // The child starts with default SIGPIPE handling and an empty signal mask,
  // whatever we did to ours.
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&plan.attr, &defaults);
  posix_spawnattr_setsigmask(&plan.attr, &empty);
  posix_spawnattr_setflags(&plan.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    for (auto& e : *options.env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, program.c_str(), &plan.actions, &plan.attr, argv.data(),
                                options.env ? envp.data() : environ);
  // The child's ends belong to the child now.
  for (int i = 0; i < 3; ++i) {
    int& child_end = i == 0 ? pipes[i][0] : pipes[i][1];
    if (child_end >= 0) ::close(std::exchange(child_end, -1));
  }
  if (rc != 0) {
    close_all();
    throw std::system_error(rc, std::generic_category(), "aio: cannot run program '" + program + "'");
  }

  auto st = std::make_shared<detail::process_state>();
  st->loop = &loop;
  st->loop_alive = loop.liveness();
  st->pid = pid;
  st->watch(st);
  process p{st};
  using kind = detail::stream_transport::kind;
  if (pipes[0][1] >= 0) {
    set_nonblocking(pipes[0][1]);
    p.std_in.emplace(detail::transport_ref{new detail::stream_transport(loop, std::exchange(pipes[0][1], -1), kind::pipe)});
  }
  if (pipes[1][0] >= 0) {
    set_nonblocking(pipes[1][0]);
    p.std_out.emplace(detail::transport_ref{new detail::stream_transport(loop, std::exchange(pipes[1][0], -1), kind::pipe)});
  }
  if (pipes[2][0] >= 0) {
    set_nonblocking(pipes[2][0]);
    p.std_err.emplace(detail::transport_ref{new detail::stream_transport(loop, std::exchange(pipes[2][0], -1), kind::pipe)});
  }
  co_return p;
}

task<process> create_subprocess_shell(std::string command, process_options options) {
  std::vector<std::string> args{"-c", std::move(command)};
  co_return co_await create_subprocess_exec("/bin/sh", std::move(args), std::move(options));
}

}  // namespace aio
