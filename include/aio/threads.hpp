// aio/threads.hpp — running blocking work on other threads (asyncio.to_thread,
// loop.run_in_executor, run_coroutine_threadsafe) and aio::thread_pool.
//
// The loop stays single-threaded: blocking calls go to a thread pool, and their
// results come back through call_soon_threadsafe, so the awaiting task resumes on
// the loop's thread. thread_pool::submit and event_loop::call_soon_threadsafe
// are thread-safe; everything else here is loop-affine.
#pragma once

#include <aio/detail/callback.hpp>
#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace aio {

/// A fixed set of worker threads running submitted jobs in FIFO order
/// (concurrent.futures.ThreadPoolExecutor). Destruction waits for queued and
/// running jobs.
class thread_pool {
 public:
  /// `threads` workers; 0 picks min(32, hardware threads + 4), as Python does.
  explicit thread_pool(std::size_t threads = 0);
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool();

  /// Thread-safe. Queues `job`; throws invalid_state_error after shutdown().
  void submit(detail::callback job);
  /// Stops accepting jobs; with `wait`, joins the workers after the queue drains.
  void shutdown(bool wait = true);
  [[nodiscard]] std::size_t size() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// loop.run_in_executor(pool, f): runs `f()` on `pool` at once and returns a
/// future of its result, completed on the loop's thread. An exception thrown by
/// `f` reaches whoever awaits the future.
/// Cancellation: cancelling the future (or a task awaiting it) returns control
/// at once; the thread finishes `f` and its result is dropped, as in asyncio.
template <class F>
future<std::invoke_result_t<F&>> event_loop::run_in_executor(thread_pool& pool, F f) {
  using R = std::invoke_result_t<F&>;
  future<R> result;
  event_loop* l = this;
  // The job carries its own handle to the future, moved (never copied) from
  // thread to thread, so the non-atomic count is only touched on the loop
  // thread; and if the loop closes before the completion runs, destroying the
  // queued completion still releases it.
  pool.submit([l, keep = result, fn = std::move(f)]() mutable {
    // On the worker: compute, then hand the outcome to the loop thread.
    auto outcome = std::make_unique<aio::outcome<R>>();
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        outcome->store_value();
      } else {
        outcome->store_value(fn());
      }
    } catch (...) {
      outcome->store_error(std::current_exception());
    }
    l->call_soon_threadsafe([l, keep = std::move(keep), outcome = std::move(outcome)]() mutable {
      l->remove_external_work();
      if (!keep.done()) {  // not cancelled meanwhile
        if (outcome->has_exception()) keep.set_exception(outcome->exception());
        else if constexpr (std::is_void_v<R>) keep.set_result();
        else keep.set_result(std::move(*outcome).value());
      }
    });
  });
  // Counted once the pool took the job (submit throws after shutdown); the
  // completion cannot run before this, since it is posted to this thread.
  add_external_work();  // the loop waits for the job rather than report a deadlock
  return result;
}

/// asyncio.to_thread(f, *args): runs `f(args...)` on the loop's default thread
/// pool and returns its result. Arguments are copied (or moved) into the job.
/// Resumes: on the loop's thread, at the iteration after the job finished.
/// Cancellation: returns control at once with cancelled_error; the thread
/// finishes its work and the result is dropped.
/// Throws: what `f` throws.
/// Example: examples/12_pitfalls.cpp
template <class F, class... Args>
task<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>> to_thread(F f, Args... args) {
  event_loop& loop = get_running_loop();
  auto job = [fn = std::move(f), tup = std::make_tuple(std::move(args)...)]() mutable {
    return std::apply(fn, tup);
  };
  auto fut = loop.run_in_executor(loop.default_executor(), std::move(job));
  co_return co_await fut;
}

/// asyncio.run_coroutine_threadsafe(coro, loop): from another thread, runs
/// `work` as a task on `loop` and returns a std::future of its result.
/// Thread-safe. A cancelled task makes the std::future throw cancelled_error.
template <class T>
std::future<T> run_coroutine_threadsafe(task<T> work, event_loop& loop) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  loop.call_soon_threadsafe([&loop, promise, t = std::move(work)]() mutable {
    future<T> f = loop.create_task(std::move(t), {}, detail::source_site{});
    f.add_done_callback([promise](future<T> done) {
      try {
        if constexpr (std::is_void_v<T>) {
          done.result();
          promise->set_value();
        } else {
          promise->set_value(done.result());
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
  });
  return result;
}

}  // namespace aio
