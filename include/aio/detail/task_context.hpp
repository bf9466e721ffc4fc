// The per-task context and the suspension record: how cancellation reaches the
// coroutine that is actually suspended.
//
// Every coroutine started as a task (create_task, run, a gather child) gets a
// task_context. A task<T> awaited inside it shares its parent's context, so the
// context always knows the one await the whole chain is suspended at:
// `waiting_on`. Task.cancel() asks that suspension to cancel its operation; if
// it cannot (the wake-up is already on its way), the request is remembered in
// `must_cancel` and delivered by the await when it resumes — exactly asyncio's
// Task.cancel() / _must_cancel / _fut_waiter.
#pragma once

#include <aio/detail/intrusive_list.hpp>
#include <aio/exceptions.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>

namespace aio {
class event_loop;
}

namespace aio::detail {

struct suspension;
struct task_context;
class future_state_base;

/// What a gather child's context does differently from a task's (a
/// task_state, which is also a future and answers through its virtual
/// functions): one static table per child type (gather.hpp).
struct child_context_kind {
  /// Called when the root coroutine finished (its result is still in its
  /// promise), or with never_started when it was cancelled before its first step.
  void (*finished)(task_context*, std::coroutine_handle<> root, bool never_started) noexcept;
  /// "<parent's name> > gather child 2".
  std::string (*name)(const task_context*);
  /// The task awaiting the gather (null before it suspends).
  future_state_base* (*owner)(const task_context*) noexcept;
};

/// What every await of one kind shares: one static object per awaiter type,
/// so a suspension costs a single pointer in the frame.
struct suspension_ops {
  /// Cancels the awaited operation. True: the operation is cancelled and the
  /// task will be woken to see it (or is waiting for a child to finish its own
  /// cancellation). False: the result is already on its way; the caller leaves
  /// the cancel pending instead.
  bool (*cancel)(suspension*) noexcept;
  /// What the task waits on, for diagnostics ("aio::queue::get", ...).
  const char* what;
  /// The suspended coroutine, for async stack traces. Null: the suspension is
  /// a waiting_task, which holds it (all but sleep, which saves the room).
  std::coroutine_handle<> (*suspended)(const suspension*) noexcept = nullptr;
};

template <std::size_t N>
struct fixed_string {
  char text[N];
  constexpr fixed_string(const char (&s)[N]) noexcept {  // NOLINT(google-explicit-constructor)
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
};

/// The ops of an awaiter type: `suspension_ops_for<&on_cancel, "aio::sleep">`.
template <bool (*Cancel)(suspension*) noexcept, fixed_string What,
          std::coroutine_handle<> (*Suspended)(const suspension*) noexcept = nullptr>
inline constexpr suspension_ops suspension_ops_for{Cancel, What.text, Suspended};

struct suspension {
  const suspension_ops* ops = nullptr;
};

struct task_context : list_node {
  event_loop* loop = nullptr;
  std::coroutine_handle<> root;
  /// asyncio's Task.cancelling(): saturates at 65,535 (16 bits, so that the
  /// flags and `id` fit beside it in one word).
  std::uint16_t cancel_requests = 0;
  std::uint16_t must_cancel : 1 = false;
  /// Not started yet, and the task after this one in the loop's registry was
  /// created right after it: one ready-queue entry starts both (and so on
  /// down the run). See event_loop::schedule_start.
  std::uint16_t starts_successor : 1 = false;
  /// A task's context is part of its task_state, which is also the task's
  /// future state, this many 8-byte words before it (task_state.hpp); 0 for
  /// a gather child, which is a child_context instead. This is what tells
  /// the two kinds apart: no pointer to a table of functions, since a
  /// task_state has a vtable already (8 bytes a task).
  std::uint16_t future_distance : 14 = 0;
  static constexpr std::size_t max_future_distance = (1u << 14) - 1;
  /// A task's number, for its default name "Task-<id>"; 0 for a gather child.
  /// 32 bits: after 2^32 tasks the numbers start again.
  std::uint32_t id = 0;

  /// The await the task is suspended at (null while it runs or is ready to).
  /// Kept in the root frame's promise, whose awaiter word a root does not
  /// need (promise_base::waiting_on): a task state is 8 bytes smaller for it.
  [[nodiscard]] suspension* waiting_on() const noexcept;  // defined in promise.hpp
  void set_waiting_on(suspension* s) noexcept;
  /// Makes `h` (not started) this context's root: the coroutine the task
  /// starts, and the frame that keeps waiting_on().
  void adopt_root(std::coroutine_handle<> h) noexcept;  // defined in promise.hpp

  /// The name for diagnostics.
  [[nodiscard]] std::string display_name() const;
  /// The root finished (its result still in its promise), or was abandoned
  /// before its first step (`never_started`): the task's future or the
  /// gather takes over.
  void root_done(std::coroutine_handle<> r, bool never_started) noexcept;
  /// The task (with a future) this context works for: itself for a task; for
  /// a gather child, the task awaiting the gather (null before it suspends).
  [[nodiscard]] future_state_base* owner() const noexcept;

  /// asyncio's Task.cancel() minus the done() check, which the owner makes.
  bool request_cancel() noexcept {
    if (cancel_requests != UINT16_MAX) ++cancel_requests;
    if (suspension* s = waiting_on()) {
      if (s->ops->cancel(s)) return true;
    }
    must_cancel = true;
    return true;
  }

  /// asyncio's Task.uncancel() (3.13: reaching zero also drops a pending cancel).
  std::uint32_t uncancel() noexcept {
    if (cancel_requests > 0 && --cancel_requests == 0) must_cancel = false;
    return cancel_requests;
  }

  /// The await the task is suspended at completed: the task is no longer
  /// cancellable through it, and `h` (the suspended coroutine) resumes at the
  /// next iteration (wake-ups always go through the ready queue).
  void wake(std::coroutine_handle<> h) noexcept;  // defined in event_loop.hpp, after the loop
  /// Leaves the loop's registry of pending tasks (the task finished).
  void leave_loop() noexcept;  // defined in event_loop.hpp

  /// Records that the task is now suspended at `s`. A cancel that arrived while
  /// the task was running is delivered now, as asyncio's __step does when the
  /// task yields with _must_cancel set.
  void suspend_on(suspension* s) noexcept {
    set_waiting_on(s);
    if (must_cancel) [[unlikely]] {
      must_cancel = false;
      if (!s->ops->cancel(s)) must_cancel = true;
    }
  }

  /// Delivers a cancel that could not cancel the operation itself (see above).
  void throw_if_cancel_pending() {
    if (must_cancel) [[unlikely]] {
      must_cancel = false;
      throw_cancelled();
    }
  }

  /// Starts (or, if cancelled before its first step, abandons) the root.
  void start_one() noexcept {
    if (must_cancel) [[unlikely]] {
      // asyncio: a task cancelled before its first step never runs its body.
      must_cancel = false;
      root_done(root, true);
      return;
    }
    root.resume();
  }
  /// A ready-queue entry (`arg` is the task_context): starts the task, and
  /// the tasks created right after it that share its entry, in order.
  static void start(void* arg) noexcept {
    auto* self = static_cast<task_context*>(arg);
    for (;;) {
      // Read before the step: a task that finishes in its first step leaves
      // the registry, and its links with it.
      task_context* next = self->starts_successor ? static_cast<task_context*>(self->next) : nullptr;
      if (next != nullptr) __builtin_prefetch(next->root.address());
      self->starts_successor = false;
      self->start_one();
      if (next == nullptr) return;
      self = next;
    }
  }

  [[noreturn]] static void throw_cancelled() { throw cancelled_error{}; }
};

/// A gather child's context (gather.hpp's task_child).
struct child_context : task_context {
  const child_context_kind* kind = nullptr;
};

}  // namespace aio::detail

// The definitions of waiting_on() need the promise, and those of
// root_done() and the rest the future state; included last, so that any of
// these headers can come first.
#include <aio/detail/future_state.hpp>
#include <aio/detail/promise.hpp>
