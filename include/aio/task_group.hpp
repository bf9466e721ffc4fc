// aio/task_group.hpp — structured concurrency (asyncio.TaskGroup):
// aio::with_task_group, aio::task_group, aio::exception_group.
//
//   aio::task<> body(aio::task_group& g, int n) {
//     for (int i = 0; i < n; ++i) g.create_task(work(i));
//     co_return;
//   }
//   co_await aio::with_task_group(body, 3);    // `async with TaskGroup() as g:`
//
// Why a function run inside the group rather than `task_group g; ...;
// co_await g.wait();`: children must never outlive the group, and with the
// second form any exception in the body — a cancellation at one of its awaits
// is the everyday case — unwinds past the wait, so the group's destructor
// would meet running children it cannot await (a destructor cannot
// co_await). with_task_group owns the body: whatever the body does (returns,
// throws, is cancelled), the helper cancels what must be cancelled and awaits
// every child before it returns or rethrows. The body is any callable taking
// (task_group&, args...) and returning an aio::task<R> — a free coroutine
// function, or a capture-free coroutine lambda (no capturing coroutine
// lambdas: pass what the body needs as arguments; they are copied into the
// helper's frame, use std::ref to pass a reference). with_task_group returns
// the body's value.
//
// What children may refer to: what outlives the with_task_group call — the
// caller's objects (passed with std::ref), with_task_group's copies of `args`,
// the body's parameters. Not the body's local variables: they die when the
// body returns or throws, and children may still be running then (they are
// cancelled and awaited after the body has unwound; C++ cannot await while
// unwinding). Declare shared state (a semaphore, a queue) in the caller:
//
//   aio::semaphore limit{3};
//   co_await aio::with_task_group(start_workers, std::ref(limit));
//
// Semantics (asyncio 3.11+ TaskGroup):
//   - children are tasks of their own (create_task returns their future) and
//     start at the next iteration;
//   - the first child to fail cancels its siblings and, while the body runs,
//     the body (its current await throws cancelled_error); children that end
//     cancelled are not errors. The failure is acted on at once (asyncio's
//     done-callback runs an iteration later), so a sibling whose await
//     completed in that same iteration is cancelled at that await;
//   - an exception from the body cancels the children too;
//   - once every child has finished: the errors (children's, in completion
//     order, then the body's) are rethrown — one as itself, several as
//     aio::exception_group (asyncio always wraps; C++ has no except*);
//   - cancelling the task that owns the group cancels the children, waits for
//     them, and throws cancelled_error — unless there are errors, which win;
//   - the group tells its own cancellation of the owner from an outside one
//     with cancelling()/uncancel(), so nested groups and timeouts compose.
//
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/current_context.hpp>
#include <aio/detail/future_state.hpp>
#include <aio/detail/intrusive_list.hpp>
#include <aio/detail/value_slot.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace aio {

/// Several errors from one task_group (Python's ExceptionGroup). what() names
/// them all; exceptions() holds them in the order they happened.
class exception_group : public std::exception {
 public:
  explicit exception_group(std::vector<std::exception_ptr> errors);
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }
  [[nodiscard]] const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }

 private:
  std::vector<std::exception_ptr> errors_;
  std::string message_;
};

namespace detail {
struct task_group_access;
}

/// asyncio.TaskGroup. Only with_task_group makes one; the body gets it by
/// reference and may pass it on (children can add siblings).
/// Example: examples/16_task_group.cpp
class task_group {
 public:
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  ~task_group();

  /// TaskGroup.create_task(): runs `t` as a task of the group, starting at
  /// the next iteration; returns its future.
  /// Throws: invalid_state_error once the group is shutting down (a child
  /// failed, or the body was cancelled) or has finished.
  template <class T>
  future<T> create_task(task<T> t, std::string name = {},
                        detail::source_site created_at = detail::source_site::here()) {
    check_open();
    child* c = new child;  // first, so that no child can run unwatched
    future<T> f{static_cast<detail::future_state<T>*>(nullptr)};
    try {
      f = parent_->loop->start_task(std::move(t), name, created_at);
    } catch (...) {
      delete c;
      throw;
    }
    watch(c, f.state());
    return f;
  }

  /// Children that have not finished yet.
  [[nodiscard]] std::size_t size() const noexcept { return pending_; }

 private:
  friend struct detail::task_group_access;
  enum class phase : std::uint8_t { body, joining, done };

  // A child is watched through its future (as a done-callback would) and
  // listed in the group, so that abort() can cancel it.
  struct child_link : detail::list_node {};
  struct child : detail::future_waiter, child_link {
    task_group* group = nullptr;
    detail::future_state_base* state = nullptr;
  };
  class join_operation;

  explicit task_group(detail::task_context* parent) noexcept;
  void check_open() const;
  void watch(child* c, detail::future_state_base* s) noexcept;
  static void on_child_done(detail::future_waiter* w, bool discard) noexcept;
  void abort() noexcept;
  /// After the body: records how it ended; true if children remain to wait for.
  bool begin_join(std::exception_ptr body_error) noexcept;
  /// After the children: the value-less outcome, or throws.
  void end_join();

  detail::task_context* parent_;
  detail::intrusive_list<child_link> children_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr body_error_;
  join_operation* joiner_ = nullptr;
  std::size_t pending_ = 0;
  std::uint32_t cancelling_at_entry_ = 0;
  phase phase_ = phase::body;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
  bool propagate_cancel_ = false;
};

/// Waits for the children after the body (the `__aexit__` half).
class task_group::join_operation : detail::waiting_task {
 public:
  join_operation(task_group& g, std::exception_ptr body_error) noexcept
      : group_(&g), body_error_(std::move(body_error)) {}
  // Moved only before the await starts (see lock::acquire_operation).
  join_operation(join_operation&& o) noexcept : join_operation(*o.group_, std::move(o.body_error_)) {}
  ~join_operation() {
    if (group_->joiner_ == this) group_->joiner_ = nullptr;
  }
  // Nothing left running: decide at once (not a suspension point, as in asyncio).
  bool await_ready() noexcept { return !group_->begin_join(std::move(body_error_)); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    group_->joiner_ = this;
    suspend(h, detail::suspension_ops_for<&on_cancel, "an aio::task_group's children">);
  }
  void await_resume();

 private:
  friend class task_group;
  static bool on_cancel(detail::suspension* s) noexcept;
  task_group* group_;
  std::exception_ptr body_error_;
};

namespace detail {
struct task_group_access {
  static task_group make(task_context* parent) noexcept { return task_group{parent}; }
  static task_group::join_operation join(task_group& g, std::exception_ptr e) noexcept {
    return task_group::join_operation{g, std::move(e)};
  }
};

template <class R>
struct body_result;
template <class T>
struct body_result<task<T>> {
  using type = T;
};

/// Awaits an awaiter that lives elsewhere. HACK: g++ 12 copies an lvalue
/// awaiter into the frame instead of using it in place, and task's awaiter
/// (which owns the body's frame) is move-only.
template <class A>
struct borrowed_awaiter {
  A* a;
  bool await_ready() { return a->await_ready(); }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) {
    return a->await_suspend(h);
  }
  decltype(auto) await_resume() { return a->await_resume(); }
};
template <class A>
borrowed_awaiter<A> borrow(A& a) noexcept {
  return borrowed_awaiter<A>{&a};
}

template <class F, class... Args>
using task_group_result_t = typename body_result<std::invoke_result_t<F&, task_group&, Args&...>>::type;
}  // namespace detail

/// `async with asyncio.TaskGroup() as g: <body>`: runs `body(group, args...)`
/// in the calling task, then waits for every child the group started; returns
/// the body's value.
/// Resumes: when the body and every child have finished.
/// Cancellation: the children are cancelled and awaited, then cancelled_error
/// is thrown (unless children failed: their errors win).
/// Throws: the one error (from a child or the body) as itself, several as
/// aio::exception_group.
/// Example: examples/16_task_group.cpp
template <class F, class... Args>
  requires std::invocable<F&, task_group&, Args&...>
task<detail::task_group_result_t<F, Args...>> with_task_group(F body, Args... args) {
  using R = detail::task_group_result_t<F, Args...>;
  // The body's frame is kept (in `run`, declared before the group, so
  // destroyed after it) until the group is done: the body's parameters outlive
  // the children, and if this frame is destroyed while suspended (the loop
  // closing), the children are destroyed before the body's frame.
  std::optional<typename task<R>::awaiter> run;
  task_group group = detail::task_group_access::make(co_await detail::current_context());
  detail::value_slot<R> result;
  std::exception_ptr error;
  try {
    run.emplace(std::invoke(body, group, args...).operator co_await());
    if constexpr (std::is_void_v<R>) {
      co_await detail::borrow(*run);
    } else {
      result.emplace(co_await detail::borrow(*run));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await detail::task_group_access::join(group, std::move(error));
  co_return result.take_once();
}

}  // namespace aio
