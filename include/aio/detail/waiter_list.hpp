// The intrusive FIFO of coroutines waiting for a lock, a permit, an event, a
// condition or a queue (tokio's batch_semaphore idea: one waiter list under
// every primitive of locks.hpp and queues.hpp).
//
// A waiter lives in the awaiting coroutine's frame, so waiting allocates
// nothing and a cancelled waiter unlinks in O(1). The protocol every
// primitive follows (see detail/task_context.hpp):
//   - await_suspend links the waiter, then calls suspend() LAST;
//   - the granter pops the waiter, records the grant and calls wake(), which
//     schedules the coroutine on the ready queue (never resumes it inline);
//   - a cancel while still linked unlinks it (on_cancel below): the waiter
//     held nothing, so nothing is lost;
//   - a cancel after the grant but before the coroutine ran is found in
//     await_resume (context->must_cancel): the primitive gives what it was
//     handed back (to the next waiter) before throwing cancelled_error.
#pragma once

#include <aio/detail/intrusive_list.hpp>
#include <aio/detail/waiting_task.hpp>

#include <cstdint>

namespace aio::detail {

struct waiter : list_node, waiting_task {
  enum class status : std::uint8_t { waiting, granted, cancelled };
  status state = status::waiting;

  /// The task was cancelled after it was granted the resource but before it
  /// resumed: the resource must be handed on before cancelled_error is thrown.
  [[nodiscard]] bool cancel_pending() const noexcept { return context != nullptr && context->must_cancel; }

  /// on_cancel for every waiter of this file's lists: give up the place in the
  /// line (nothing was granted yet) and resume with cancelled_error.
  static bool cancel_waiting(suspension* s) noexcept {
    auto* self = static_cast<waiter*>(s);
    if (self->linked()) intrusive_list<waiter>::unlink(self);
    self->state = status::cancelled;
    self->wake();
    return true;
  }
};

/// FIFO of waiters (W derives from waiter). Destroying the list detaches the
/// waiters still in it, so that their own destructors (frames destroyed when
/// the loop closes) do not touch a primitive that is gone.
template <class W = waiter>
class waiter_list {
 public:
  waiter_list() noexcept = default;
  waiter_list(const waiter_list&) = delete;
  waiter_list& operator=(const waiter_list&) = delete;
  ~waiter_list() { clear(); }

  [[nodiscard]] bool empty() const noexcept { return list_.empty(); }
  [[nodiscard]] W* front() const noexcept { return static_cast<W*>(list_.front()); }

  void push_back(W* w) noexcept {
    w->state = waiter::status::waiting;
    list_.push_back(w);
  }
  W* pop_front() noexcept { return static_cast<W*>(list_.pop_front()); }
  static void remove(W* w) noexcept {
    if (w->linked()) intrusive_list<waiter>::unlink(w);
  }

  /// Pops the first waiter and wakes it with the resource granted.
  W* grant_front() noexcept {
    W* w = pop_front();
    // The next waiter is granted next, usually within this iteration: start
    // fetching its task and frame now. With many waiters they were parked
    // long ago and are cold, and the grants would otherwise wait on memory
    // one after the other. (pop_front already brought in its node; the node
    // after it is the next pop's first miss.) A prefetch never faults: the
    // sentinel or a stale pointer is harmless.
    if (!list_.empty()) {
      const W* next = front();
      __builtin_prefetch(next->context, 1);
      __builtin_prefetch(next->handle.address(), 1);
      __builtin_prefetch(static_cast<const list_node*>(next)->next, 1);  // and the node after it
    }
    w->state = waiter::status::granted;
    w->wake();
    return w;
  }

  void clear() noexcept {
    while (!list_.empty()) list_.pop_front();
  }

 private:
  intrusive_list<waiter> list_;
};

}  // namespace aio::detail
