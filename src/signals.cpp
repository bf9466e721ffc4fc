// loop.add_signal_handler: a self-pipe, as asyncio's set_wakeup_fd. The C
// handler only writes the signal number to the pipe (async-signal-safe, and it
// works whichever thread the kernel picks); the loop reads it and runs the
// handler as a callback. signalfd would need the signal blocked in every
// thread, including ones the program started before the loop.
#include <aio/event_loop.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <map>
#include <system_error>

namespace aio::detail {
namespace {

// Write end of the self-pipe of the loop that handles each signal, plus one
// (0: none). Read by the signal handler: atomics of int are lock-free.
std::array<std::atomic<int>, NSIG> signal_pipe{};

extern "C" void forward_signal(int sig) {
  const int saved = errno;
  const int fd = signal_pipe[static_cast<std::size_t>(sig)].load(std::memory_order_relaxed) - 1;
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] auto ignored = ::write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

struct signal_state : io_waiter {
  event_loop* loop;
  io_registration reg;
  int write_fd = -1;
  std::map<int, callback> handlers;
  std::map<int, struct sigaction> previous;

  explicit signal_state(event_loop& l) : loop(&l) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
      throw std::system_error(errno, std::generic_category(), "aio: pipe for signal handlers");
    reg.fd = fds[0];
    write_fd = fds[1];
    on_ready = &readable;
    l.io().add(reg);
    reg.reader = this;
  }
  ~signal_state() {
    for (auto& [sig, old] : previous) {
      signal_pipe[static_cast<std::size_t>(sig)].store(0);
      ::sigaction(sig, &old, nullptr);
      loop->remove_external_work();
    }
    loop->io().remove(reg);
    ::close(reg.fd);
    ::close(write_fd);
  }

  static void readable(io_waiter* w) noexcept {
    auto* self = static_cast<signal_state*>(w);
    unsigned char buf[64];
    for (;;) {
      const ssize_t n = ::read(self->reg.fd, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        const int sig = buf[i];
        // Looked up when it runs: the handler may have been replaced or removed.
        self->loop->call_soon([self, sig] {
          auto it = self->handlers.find(sig);
          if (it != self->handlers.end()) it->second();
        });
      }
    }
    self->reg.readable = false;
    self->reg.reader = self;
  }
};

void signal_state_deleter::operator()(signal_state* s) const noexcept { delete s; }

}  // namespace aio::detail

namespace aio {

void event_loop::add_signal_handler(int sig, detail::callback f) {
  if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
    throw value_error("aio::event_loop::add_signal_handler(): signal " + std::to_string(sig) +
                      " cannot be handled (invalid, or SIGKILL/SIGSTOP)");
  if (!signals_) signals_.reset(new detail::signal_state(*this));
  auto& st = *signals_;
  st.handlers[sig] = std::move(f);
  if (st.previous.count(sig)) return;
  struct sigaction action {};
  action.sa_handler = &detail::forward_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  struct sigaction old {};
  detail::signal_pipe[static_cast<std::size_t>(sig)].store(st.write_fd + 1);
  if (::sigaction(sig, &action, &old) < 0) {
    detail::signal_pipe[static_cast<std::size_t>(sig)].store(0);
    st.handlers.erase(sig);
    throw std::system_error(errno, std::generic_category(), "aio: sigaction");
  }
  st.previous[sig] = old;
  add_external_work();  // a signal can still arrive: an idle loop waits for it
}

bool event_loop::remove_signal_handler(int sig) {
  if (!signals_ || !signals_->handlers.erase(sig)) return false;
  auto it = signals_->previous.find(sig);
  if (it != signals_->previous.end()) {
    detail::signal_pipe[static_cast<std::size_t>(sig)].store(0);
    ::sigaction(sig, &it->second, nullptr);
    signals_->previous.erase(it);
    remove_external_work();
  }
  return true;
}

}  // namespace aio
