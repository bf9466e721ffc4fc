// aio/tasks.hpp — running coroutines concurrently (asyncio's tasks.py):
// create_task, gather / when_all, gather_settled, when_any, shield, sleep,
// sleep_until, yield; and looking at them: current_task, all_tasks, dump_tasks.
//
// Wake-ups go through the loop's ready queue; nothing here resumes a coroutine
// inline. Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/current_context.hpp>
#include <aio/detail/gather.hpp>
#include <aio/detail/sleep.hpp>
#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace aio {

/// asyncio.create_task(coro, name=): schedules `t` on the running loop to start
/// at the next iteration, concurrently with the caller, and returns its future.
/// The loop keeps the task alive until it finishes, even if the future is dropped.
/// Throws: invalid_state_error outside a running loop or for a moved-from task.
/// Example: examples/03_event_loop.cpp
template <class T>
future<T> create_task(task<T> t, std::string name = {}, detail::source_site created_at = detail::source_site::here()) {
  return get_running_loop().start_task(std::move(t), name, created_at);
}

namespace detail {
/// Finds the task context without suspending (see current_context.hpp), then
/// the task it works for.
class current_task_operation : public current_context_operation {
 public:
  task_info await_resume() const noexcept {
    task_context* context = current_context_operation::await_resume();
    return task_info{context ? context->owner() : nullptr};
  }
};
}  // namespace detail

/// asyncio.current_task(), as an awaitable: `aio::task_info me = co_await
/// aio::current_task();` gives the task the calling coroutine runs in. Inside
/// a child of gather / when_any / as_completed that is the task awaiting the
/// gather: aio's gather children are part of that task, not tasks of their own.
/// Does not suspend and is not a cancellation point.
[[nodiscard]] inline detail::current_task_operation current_task() noexcept { return {}; }

/// asyncio.all_tasks(): the tasks of `loop` that are not done, in creation
/// order (tasks made by create_task, run, task_group and shield; the children
/// of gather belong to the task awaiting them).
[[nodiscard]] std::vector<task_info> all_tasks(const event_loop& loop);
/// The same for the running loop. Throws invalid_state_error without one.
[[nodiscard]] std::vector<task_info> all_tasks();

/// Prints every pending task of `loop` with its async stack trace: the chain of
/// coroutines each one is suspended in, with the line of every co_await, and
/// what it waits on (a lock, a queue, a future, a timer...). For a server, say,
/// call it from a signal handler (loop.add_signal_handler(SIGUSR1, ...)).
void dump_tasks(std::ostream& out, const event_loop& loop);
/// The same for the running loop. Throws invalid_state_error without one.
void dump_tasks(std::ostream& out);

namespace detail {
template <class A>
concept gatherable = requires { typename child_of<std::remove_cvref_t<A>>::type; };
template <class T>
concept gatherable_vector_element = gatherable<T> && std::is_same_v<T, std::remove_cvref_t<T>>;

template <class... A>
task<std::tuple<gathered_t<child_value_t<A>>...>> gather_tuple(std::remove_cvref_t<A>... children) {
  gather_tuple_operation<std::remove_cvref_t<A>...> op{gather_core::mode::all, std::move(children)...};
  co_await op;
  co_return op.values();
}
template <class... A>
task<std::tuple<outcome<child_value_t<A>>...>> gather_settled_tuple(std::remove_cvref_t<A>... children) {
  gather_tuple_operation<std::remove_cvref_t<A>...> op{gather_core::mode::settled, std::move(children)...};
  co_await op;
  co_return op.outcomes();
}
template <class A>
task<std::vector<gathered_t<child_value_t<A>>>> gather_vector(std::vector<A> children) {
  gather_vector_operation<A> op{gather_core::mode::all, std::move(children)};
  co_await op;
  co_return op.values();
}
template <class A>
task<std::vector<outcome<child_value_t<A>>>> gather_settled_vector(std::vector<A> children) {
  gather_vector_operation<A> op{gather_core::mode::settled, std::move(children)};
  co_await op;
  co_return op.outcomes();
}

template <class... V>
struct any_value {
  using type = std::variant<V...>;
};
template <class V, class... Rest>
  requires(std::is_same_v<V, Rest> && ...)
struct any_value<V, Rest...> {
  using type = V;
};
}  // namespace detail

/// What when_any returns: which child finished first, and its value (a
/// std::variant, indexed like the arguments, when the children's types differ).
template <class T>
struct when_any_result {
  std::size_t index;
  T value;
};

/// asyncio.gather(*aws): runs the children concurrently and returns their values
/// in argument order, as a std::tuple (a void child gives std::monostate).
/// Children are task<T>s (each becomes a task of its own, started in argument
/// order at the next iteration) or future<T>s (from create_task, or plain).
/// Resumes: when every child has finished.
/// On failure: the first exception is rethrown — after the remaining task
/// children were cancelled and have finished (no child outlives the await;
/// asyncio lets them run on). Futures passed in belong to the caller and are
/// neither cancelled nor waited for then.
/// Cancellation: cancels every child (futures too), waits for them, then throws
/// cancelled_error.
/// Example: examples/01_sync_vs_async.cpp
template <class... A>
  requires(detail::gatherable<A> && ...)
[[nodiscard]] auto gather(A&&... children) {
  return detail::gather_tuple<A...>(std::forward<A>(children)...);
}
/// asyncio.gather(*list): the same over a vector, returning a vector.
template <class A>
  requires detail::gatherable<A>
[[nodiscard]] auto gather(std::vector<A> children) {
  return detail::gather_vector<A>(std::move(children));
}

/// when_all is gather under its C++ name.
template <class... A>
  requires(detail::gatherable<A> && ...)
[[nodiscard]] auto when_all(A&&... children) {
  return detail::gather_tuple<A...>(std::forward<A>(children)...);
}
template <class A>
  requires detail::gatherable<A>
[[nodiscard]] auto when_all(std::vector<A> children) {
  return detail::gather_vector<A>(std::move(children));
}

/// asyncio.gather(..., return_exceptions=True): waits for every child and
/// returns an aio::outcome per child (value, exception, or cancelled); no
/// failure cancels the others.
/// Cancellation: cancels every child, waits for them, throws cancelled_error.
template <class... A>
  requires(detail::gatherable<A> && ...)
[[nodiscard]] auto gather_settled(A&&... children) {
  return detail::gather_settled_tuple<A...>(std::forward<A>(children)...);
}
template <class A>
  requires detail::gatherable<A>
[[nodiscard]] auto gather_settled(std::vector<A> children) {
  return detail::gather_settled_vector<A>(std::move(children));
}

/// asyncio.wait(aws, return_when=FIRST_COMPLETED), made structured: returns
/// {index, value} of the first child to finish; the other task children are
/// cancelled and awaited first. If the first to finish failed, its exception
/// is rethrown. Futures passed in are not cancelled.
/// Cancellation: cancels every child, waits for them, throws cancelled_error.
template <class... A>
  requires(detail::gatherable<A> && ...)
[[nodiscard]] task<when_any_result<typename detail::any_value<detail::gathered_t<detail::child_value_t<A>>...>::type>>
when_any(A... children) {
  using result = when_any_result<typename detail::any_value<detail::gathered_t<detail::child_value_t<A>>...>::type>;
  detail::gather_tuple_operation<A...> op{detail::gather_core::mode::any, std::move(children)...};
  co_await op;
  co_return op.template winner<result>();
}
template <class A>
  requires detail::gatherable<A>
[[nodiscard]] task<when_any_result<detail::gathered_t<detail::child_value_t<A>>>> when_any(std::vector<A> children) {
  detail::gather_vector_operation<A> op{detail::gather_core::mode::any, std::move(children)};
  co_await op;
  co_return op.template winner<when_any_result<detail::gathered_t<detail::child_value_t<A>>>>();
}

/// asyncio.sleep(d). Resumes at the first iteration at or after loop.time() + d.
/// A zero or negative duration yields once. Allocates nothing.
/// Cancellation: the timer is removed and the await throws cancelled_error.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_operation sleep(const std::chrono::duration<Rep, Period>& d) noexcept {
  return detail::sleep_operation{std::chrono::duration_cast<duration>(d).count(), true};
}
/// Sleeps until loop time `when` (see event_loop::time()).
[[nodiscard]] inline detail::sleep_operation sleep_until(const time_point& when) noexcept {
  return detail::sleep_operation{when.time_since_epoch().count(), false};
}
/// asyncio.sleep(0): lets every other ready task run once, then resumes.
/// Cancellation: a cancel that arrives meanwhile is thrown on resume.
[[nodiscard]] inline detail::yield_operation yield() noexcept { return {}; }

namespace detail {
/// Waits for a future without cancelling it when the awaiting task is cancelled.
template <class T>
class shield_operation : future_waiter, waiting_task {
 public:
  explicit shield_operation(future<T> f) noexcept : future_(std::move(f)) {}
  shield_operation(shield_operation&& o) noexcept : future_(std::move(o.future_)) {}
  ~shield_operation() {
    if (future_.state()) future_.state()->remove_waiter(this);
  }
  bool await_ready() const noexcept { return future_.done(); }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    notify = &on_done;
    future_.state()->add_waiter(this);
    suspend(h, detail::suspension_ops_for<&on_cancel, "an aio::future (shielded)">);
  }
  decltype(auto) await_resume() {
    if (cancelled_) task_context::throw_cancelled();
    if (context) context->throw_if_cancel_pending();
    return future_.state()->take();
  }

 private:
  static void on_done(future_waiter* w, bool discard) noexcept {
    if (!discard) static_cast<shield_operation*>(w)->wake();
  }
  // The inner future runs on; only this await gives up.
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<shield_operation*>(s);
    self->future_.state()->remove_waiter(self);
    self->cancelled_ = true;
    self->wake();
    return true;
  }
  future<T> future_;
  bool cancelled_ = false;
};
}  // namespace detail

/// asyncio.shield(aw): awaits `f`, but cancelling the awaiting task does not
/// cancel `f`: the await throws cancelled_error at once and `f` runs on.
template <class T>
[[nodiscard]] detail::shield_operation<T> shield(future<T> f) noexcept {
  return detail::shield_operation<T>{std::move(f)};
}
/// Shields a task: it becomes a task of its own (create_task), then as above.
template <class T>
[[nodiscard]] detail::shield_operation<T> shield(task<T> t) {
  return detail::shield_operation<T>{create_task(std::move(t), {}, detail::source_site{})};
}

}  // namespace aio
#include <aio/detail/as_completed.hpp>
