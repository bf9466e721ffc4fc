// Template bodies of event_loop.hpp (run, run_until_complete, create_task).
#pragma once

#include <aio/detail/task_state.hpp>

#include <utility>

namespace aio {

template <class T>
future<T> event_loop::start_task(task<T>&& t, std::string& name, detail::source_site created_at) {
  if (!t.valid())
    throw invalid_state_error(
        "aio::create_task() was given a moved-from or already-awaited task: pass a fresh task, e.g. "
        "create_task(work())");
  if (closed_) throw invalid_state_error("aio::event_loop::create_task() on a closed loop");
  auto* state = new detail::task_state<T>(*this, t.release(), name, ++task_counter_,
                                          debug_ ? created_at : detail::source_site{});
  track(*state);          // the loop's reference, dropped when the task finishes
  state->add_ref();       // the returned future's
  schedule_start(*state);
  return future<T>{state};
}

template <class T>
future<T> event_loop::create_future() {
  return future<T>{};
}

template <class T>
T event_loop::run_until_complete(future<T> f) {
  enter("run_until_complete");
  struct leave_on_exit {
    event_loop* loop;
    ~leave_on_exit() { loop->leave(); }
  } guard{this};
  run_until_done(*f.state());
  if (debug_) [[unlikely]] report_escaping_exception(*f.state());
  if constexpr (std::is_void_v<T>) f.result();
  else return f.state()->take();
}

template <class T>
T event_loop::run_until_complete(task<T> main) {
  if (running_ || running_loop() != nullptr)
    throw invalid_state_error(
        "aio::event_loop::run_until_complete() called while an event loop is running on this thread: "
        "inside a coroutine, co_await the task instead");
  return run_until_complete(create_task(std::move(main), "main", detail::source_site{}));
}

namespace detail {
template <class T>
T run_on(event_loop& loop, task<T> main) {
  if (running_loop() != nullptr)
    throw invalid_state_error(
        "aio::run() cannot be called from a running event loop: inside a coroutine, co_await the task "
        "(or aio::create_task it) instead");
  struct finish_on_exit {
    event_loop& loop;
    ~finish_on_exit() {
      loop.cancel_all_tasks();
      loop.close();
    }
  } finish{loop};
  return loop.run_until_complete(std::move(main));
}
}  // namespace detail

template <class T>
T run(task<T> main) {
  event_loop loop;
  return detail::run_on(loop, std::move(main));
}

template <class T>
T run(task<T> main, virtual_time_t) {
  event_loop loop{virtual_time};
  return detail::run_on(loop, std::move(main));
}

}  // namespace aio

#include <aio/future.hpp>
