#include <aio/detail/reactor.hpp>

#include <aio/event_loop.hpp>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace aio::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

class epoll_reactor final : public reactor {
 public:
  explicit epoll_reactor(event_loop& loop) : loop_(loop) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_errno("aio: epoll_create1");
    wakefd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd_ < 0) {
      ::close(epfd_);
      throw_errno("aio: eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // null marks the inbox
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) < 0) throw_errno("aio: epoll_ctl(eventfd)");
  }
  ~epoll_reactor() override {
    ::close(wakefd_);
    ::close(epfd_);
  }

  void add(io_registration& r) override {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &r;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, r.fd, &ev) < 0) throw_errno("aio: epoll_ctl(ADD)");
    r.registered = true;
  }

  void remove(io_registration& r) noexcept override {
    if (!r.registered) return;
    // The descriptor may already be closed (a foreign one): then the kernel
    // dropped it and ENOENT/EBADF are expected.
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, r.fd, nullptr);
    r.registered = false;
  }

  void arm_one_shot(io_registration& r) override {
    epoll_event ev{};
    ev.events = EPOLLONESHOT | (r.reader ? EPOLLIN | EPOLLRDHUP : 0u) | (r.writer ? EPOLLOUT : 0u);
    ev.data.ptr = &r;
    if (r.registered && ::epoll_ctl(epfd_, EPOLL_CTL_MOD, r.fd, &ev) == 0) return;
    // Not known to epoll (first wait, or the number was closed and reused).
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, r.fd, &ev) < 0) {
      if (errno != EEXIST || ::epoll_ctl(epfd_, EPOLL_CTL_MOD, r.fd, &ev) < 0)
        throw_errno("aio: epoll_ctl(arm)");
    }
    r.registered = true;
  }

  bool poll(std::int64_t timeout_ns) override {
    int timeout_ms = -1;
    if (timeout_ns >= 0) {
      // Round up: waking early would spin until the timer is due.
      timeout_ms = static_cast<int>(std::min<std::int64_t>((timeout_ns + 999'999) / 1'000'000, 1 << 30));
    }
    const int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return true;
      throw_errno("aio: epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[static_cast<std::size_t>(i)];
      auto* r = static_cast<io_registration*>(ev.data.ptr);
      if (r == nullptr) {
        drain_inbox();
        continue;
      }
      const bool failed = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
      const bool to_writer = (ev.events & EPOLLOUT) || failed;
      // Read before any callback runs: a reader with no writer may free its
      // own registration (a reaped child's pidfd goes with its process).
      // One-shot registrations belong to the reactor and stay.
      const bool one_shot = r->one_shot;
      if ((ev.events & (EPOLLIN | EPOLLRDHUP)) || failed) {
        r->readable = true;
        if (ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) r->peer_closed = true;
        if (auto* w = std::exchange(r->reader, nullptr)) w->on_ready(w);
      }
      if (to_writer) {
        r->writable = true;
        if (auto* w = std::exchange(r->writer, nullptr)) w->on_ready(w);
      }
      if (one_shot && (r->reader || r->writer)) arm_one_shot(*r);  // the other direction still waits
    }
    return n > 0;
  }

  void post(callback f) override {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      inbox_.push_back(std::move(f));
      wake = !signalled_;
      signalled_ = true;
      posted_.store(true, std::memory_order_release);
    }
    if (wake) {
      const std::uint64_t one = 1;
      // A full counter (impossible in practice) still leaves the fd readable.
      [[maybe_unused]] auto ignored = ::write(wakefd_, &one, sizeof one);
    }
  }

  bool has_posted() const noexcept override { return posted_.load(std::memory_order_acquire); }

  io_registration& foreign(int fd) override {
    auto& slot = foreign_[fd];
    if (!slot) {
      slot = std::make_unique<io_registration>();
      slot->fd = fd;
      slot->one_shot = true;
    }
    return *slot;
  }

 private:
  void drain_inbox() {
    std::uint64_t count;
    [[maybe_unused]] auto ignored = ::read(wakefd_, &count, sizeof count);
    std::vector<callback> batch;
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      batch.swap(inbox_);
      signalled_ = false;
      posted_.store(false, std::memory_order_relaxed);
    }
    for (auto& f : batch) loop_.call_soon(std::move(f));
  }

  event_loop& loop_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::array<epoll_event, 256> events_{};
  std::mutex inbox_mutex_;
  std::vector<callback> inbox_;
  bool signalled_ = false;
  std::atomic<bool> posted_{false};
  std::unordered_map<int, std::unique_ptr<io_registration>> foreign_;
};

}  // namespace

std::unique_ptr<reactor> make_reactor(event_loop& loop) { return std::make_unique<epoll_reactor>(loop); }

}  // namespace aio::detail
