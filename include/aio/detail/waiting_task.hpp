// A coroutine suspended on one of the loop's awaitables: the base of every
// cancellable awaiter (sleep, futures, gather, and later locks, queues, I/O).
#pragma once

#include <aio/detail/promise.hpp>
#include <aio/detail/task_context.hpp>

#include <coroutine>

namespace aio::detail {

struct waiting_task : suspension {
  task_context* context = nullptr;
  std::coroutine_handle<> handle;

  /// Records the suspension; a cancel that arrived while the task ran is
  /// delivered now (so call it last in await_suspend). `kind` says how to
  /// cancel it and names it in diagnostics (the deadlock report).
  template <class P>
  void suspend(std::coroutine_handle<P> h, const suspension_ops& kind) noexcept {
    context = context_of(h);
    handle = h;
    ops = &kind;
    context->suspend_on(this);
  }

  /// The operation completed: see task_context::wake.
  void wake() noexcept { context->wake(handle); }
};

}  // namespace aio::detail

// wake() needs the complete event_loop, whose header includes this one.
#include <aio/event_loop.hpp>
