// Suspends a task until a descriptor is readable or writable.
#pragma once

#include <aio/detail/reactor.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>

#include <coroutine>

namespace aio::detail {

class io_wait_operation : waiting_task, io_waiter {
 public:
  io_wait_operation(io_registration& r, bool write) noexcept : reg_(r), write_(write) {}
  // Moved only before the await starts (see sleep_operation).
  io_wait_operation(io_wait_operation&& o) noexcept : io_wait_operation(o.reg_, o.write_) {}
  ~io_wait_operation() {
    if (suspended_) {  // the frame died while waiting (loop closing)
      if (slot() == this) slot() = nullptr;
      loop_->remove_external_work();
    }
  }

  // An owned descriptor that showed an edge since its last EAGAIN is ready
  // without asking the kernel; a foreign one is always waited for.
  bool await_ready() const noexcept { return !reg_.one_shot && (write_ ? reg_.writable : reg_.readable); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    if (slot() != nullptr)
      throw invalid_state_error(write_ ? "aio: two tasks are waiting to write the same descriptor at once"
                                       : "aio: two tasks are waiting to read the same descriptor at once");
    loop_ = context_of(h)->loop;
    on_ready = &ready;
    slot() = this;
    if (reg_.one_shot) loop_->io().arm_one_shot(reg_);
    loop_->add_external_work();  // I/O in flight: virtual time must not jump past it
    suspended_ = true;
    suspend(h, write_ ? suspension_ops_for<&on_cancel, "a descriptor to become writable">
                      : suspension_ops_for<&on_cancel, "a descriptor to become readable">);
  }
  void await_resume() {
    if (suspended_) {
      suspended_ = false;
      loop_->remove_external_work();
    }
    if (cancelled_) task_context::throw_cancelled();
    context->throw_if_cancel_pending();
  }

 private:
  io_waiter*& slot() noexcept { return write_ ? reg_.writer : reg_.reader; }
  static void ready(io_waiter* w) noexcept { static_cast<io_wait_operation*>(w)->wake(); }
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<io_wait_operation*>(s);
    if (self->slot() == self) self->slot() = nullptr;
    self->cancelled_ = true;
    self->wake();
    return true;
  }

  io_registration& reg_;
  event_loop* loop_ = nullptr;
  bool write_;
  bool suspended_ = false;
  bool cancelled_ = false;
};

}  // namespace aio::detail
