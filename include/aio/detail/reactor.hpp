// The loop's I/O poller, behind a small interface so that io_uring or kqueue can
// be added later. Linux: src/epoll_reactor.cpp.
//
// Two ways to wait on a descriptor:
//  - Descriptors aio owns (sockets, pipes) are registered once, edge-triggered,
//    for reading and writing. The registration caches readiness: an operation
//    tries the system call first and waits only after EAGAIN, so a busy socket
//    costs no epoll_ctl and no wait at all.
//  - Foreign descriptors (libpq, c-ares, curl: aio::wait_readable(fd)) are armed
//    one-shot per wait, so a descriptor the library closes and whose number is
//    reused is never confused with the old one.
//
// The reactor also carries the loop's thread-safe inbox (call_soon_threadsafe),
// woken through an eventfd.
#pragma once

#include <aio/detail/callback.hpp>

#include <cstdint>
#include <memory>

namespace aio {
class event_loop;
}

namespace aio::detail {

/// Whoever waits for a direction of a descriptor: a suspended task (through
/// io_wait_operation) or a transport's background writer. Called from poll();
/// it may do non-blocking system calls and schedule, never run user code.
struct io_waiter {
  void (*on_ready)(io_waiter*) noexcept = nullptr;
};

/// One descriptor's registration; lives in the object that owns the descriptor.
struct io_registration {
  int fd = -1;
  io_waiter* reader = nullptr;  // at most one waiter per direction
  io_waiter* writer = nullptr;
  bool readable = false;  // an edge was seen since the last EAGAIN
  bool writable = false;
  bool peer_closed = false;  // EPOLLRDHUP/EPOLLHUP seen: end of stream follows the buffered data
  bool registered = false;
  bool one_shot = false;  // a foreign descriptor
};

class reactor {
 public:
  virtual ~reactor() = default;

  /// Registers an owned descriptor (edge-triggered, both directions).
  virtual void add(io_registration& r) = 0;
  /// Forgets a descriptor; call before closing it.
  virtual void remove(io_registration& r) noexcept = 0;
  /// Arms a one-shot wait on a foreign descriptor for the directions that have
  /// a waiter.
  virtual void arm_one_shot(io_registration& r) = 0;

  /// Waits up to `timeout_ns` (-1: without limit, 0: just look) for I/O or the
  /// inbox, and schedules what became ready. Returns false on timeout.
  virtual bool poll(std::int64_t timeout_ns) = 0;

  /// Thread-safe: queues `f` to be scheduled on the loop, and wakes the loop.
  virtual void post(callback f) = 0;
  /// Something was posted and not yet taken (a cheap check the loop makes
  /// each iteration, so a busy loop still serves call_soon_threadsafe).
  [[nodiscard]] virtual bool has_posted() const noexcept = 0;

  /// The registration of a foreign descriptor (aio::wait_readable), made on
  /// first use and kept (the number may be reused; see arm_one_shot).
  virtual io_registration& foreign(int fd) = 0;
};

std::unique_ptr<reactor> make_reactor(event_loop& loop);

}  // namespace aio::detail
