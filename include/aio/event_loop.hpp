// aio/event_loop.hpp — the event loop, aio::run and get_running_loop (asyncio's
// events.py and runners.py).
//
// One loop per thread, single-threaded. Each iteration polls for I/O (without
// blocking if work is ready, else until the next timer), moves due timers to the
// ready queue, then runs the entries that were ready when the iteration began:
// work scheduled during an iteration runs in the next one, as in asyncio, so no
// task starves the others.
//
// Time: the loop reads aio::clock. A loop made with aio::virtual_time starts at
// zero and, when nothing is ready and nothing else can happen, jumps straight to
// the next timer: a test of three parallel one-second sleeps runs in
// microseconds and still reads one second on loop.time().
//
// Loop-affine, not thread-safe: every member must be called on the loop's thread.
#pragma once

#include <aio/detail/source_site.hpp>
#include <aio/detail/callback.hpp>
#include <aio/detail/reactor.hpp>
#include <aio/detail/ready_queue.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/detail/timer_queue.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace aio {

/// The loops' clock. Nanoseconds. now() reads the running loop's time (virtual
/// or steady); outside a running loop it reads std::chrono::steady_clock.
struct clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};
using duration = clock::duration;
using time_point = clock::time_point;

/// Tag: make a loop on virtual time (see above).
struct virtual_time_t {
  explicit constexpr virtual_time_t() = default;
};
inline constexpr virtual_time_t virtual_time{};

template <class T> class future;
class task_info;
class thread_pool;

namespace detail {
struct callback_node;
struct signal_state;
struct signal_state_deleter {
  void operator()(signal_state* s) const noexcept;
};
class future_state_base;
template <class T> class task_state;
}  // namespace detail

/// asyncio.Handle / TimerHandle: what call_soon, call_later and call_at return.
/// Copyable; cancel() keeps the callback from running if it has not run yet.
class callback_handle {
 public:
  callback_handle() noexcept = default;
  explicit callback_handle(detail::callback_node* n) noexcept;
  callback_handle(const callback_handle& o) noexcept;
  callback_handle& operator=(const callback_handle& o) noexcept;
  ~callback_handle();

  /// Keeps the callback from running (and disarms its timer). Harmless if it ran.
  void cancel() noexcept;
  [[nodiscard]] bool cancelled() const noexcept;
  /// For call_later / call_at handles: the scheduled time.
  [[nodiscard]] time_point when() const noexcept;

 private:
  detail::callback_node* node_ = nullptr;
};

class event_loop {
 public:
  /// A loop on std::chrono::steady_clock.
  event_loop();
  /// A loop on virtual time, starting at zero (for tests and simulations).
  explicit event_loop(virtual_time_t);
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;
  /// Closes the loop (see close()).
  ~event_loop();

  // --- Running and stopping ------------------------------------------------

  /// Runs `main` as a task until it completes; returns its value or rethrows.
  /// Throws invalid_state_error if a loop is already running on this thread, and
  /// deadlock_error if the task can never finish (nothing left that could wake it).
  template <class T> T run_until_complete(task<T> main);
  /// Runs the loop until `f` is done; returns its result or rethrows.
  template <class T> T run_until_complete(future<T> f);
  /// Runs until stop() is called.
  void run_forever();
  /// Makes run_forever / run_until_complete return after the current iteration.
  void stop() noexcept { stopping_ = true; }
  [[nodiscard]] bool is_running() const noexcept { return running_; }
  [[nodiscard]] bool is_closed() const noexcept { return closed_; }
  /// Closes the loop. Tasks still pending are destroyed, their futures marked
  /// cancelled, and a diagnostic names each one (asyncio: "Task was destroyed but
  /// it is pending!"). Throws invalid_state_error while the loop is running.
  void close();

  // --- Time and callbacks (asyncio's low-level API) ------------------------

  /// The loop's current time (loop.time()).
  [[nodiscard]] time_point time() const noexcept;
  [[nodiscard]] bool uses_virtual_time() const noexcept { return virtual_time_; }

  /// Runs `f` at the next iteration, after what is already scheduled (FIFO).
  callback_handle call_soon(detail::callback f);
  /// Runs `f` after `delay` (loop.call_later).
  callback_handle call_later(duration delay, detail::callback f);
  /// Runs `f` at loop time `when` (loop.call_at). Equal times run FIFO.
  callback_handle call_at(time_point when, detail::callback f);

  // --- Debug mode (asyncio's loop.set_debug / PYTHONASYNCIODEBUG) ------------

  /// Debug mode reports, through aio::log, every step of a task or callback
  /// that blocks the loop longer than slow_callback_duration (the guide's first
  /// pitfall, caught at run time), every task<T> destroyed without ever being
  /// awaited, and an exception escaping run_until_complete with the chain of
  /// coroutines it crossed. A step is what runs between two suspensions of a
  /// task: the report names the task, where it was created and the await the
  /// step resumed from; the blocking call may be further on, in that
  /// coroutine or in one it awaited without suspending. Off by default;
  /// AIO_DEBUG=1 in the environment turns it on for every new loop. Off, it
  /// costs one predictable branch per iteration.
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  [[nodiscard]] bool get_debug() const noexcept { return debug_; }
  /// loop.slow_callback_duration (default 100 ms).
  duration slow_callback_duration = std::chrono::milliseconds(100);

  // --- Signals -------------------------------------------------------------

  /// loop.add_signal_handler(sig, f): runs `f` on the loop (like call_soon)
  /// each time the process receives `sig`, e.g. SIGINT to stop a server
  /// cleanly. Replaces an earlier handler for `sig`; the disposition the
  /// process had is restored by remove_signal_handler or close().
  /// Throws: value_error for SIGKILL/SIGSTOP or an invalid number.
  void add_signal_handler(int sig, detail::callback f);
  /// Removes the handler; false if there was none.
  bool remove_signal_handler(int sig);

  // --- Threads -------------------------------------------------------------

  /// loop.call_soon_threadsafe(): the one member any thread may call. Queues
  /// `f` to run on the loop's thread and wakes the loop. The loop must outlive
  /// the call.
  void call_soon_threadsafe(detail::callback f) { reactor_->post(std::move(f)); }

  /// loop.run_in_executor(pool, f): runs `f()` on `pool` now; the future
  /// completes on this loop. Defined in <aio/threads.hpp>.
  template <class F>
  future<std::invoke_result_t<F&>> run_in_executor(thread_pool& pool, F f);
  /// The pool behind aio::to_thread, started on first use (asyncio's default
  /// executor); close() and aio::run shut it down, waiting for its jobs.
  thread_pool& default_executor();
  /// loop.shutdown_default_executor(), synchronously: waits for running jobs.
  void shutdown_default_executor() noexcept;

  /// Tells the loop that another thread may still call call_soon_threadsafe:
  /// while one is held, an idle loop waits instead of reporting a deadlock, and
  /// virtual time does not jump. Take it on the loop thread; drop it anywhere.
  class keep_alive_token {
   public:
    keep_alive_token() noexcept = default;
    explicit keep_alive_token(event_loop& l) noexcept : loop_(&l) { l.add_external_work(); }
    keep_alive_token(keep_alive_token&& o) noexcept : loop_(std::exchange(o.loop_, nullptr)) {}
    keep_alive_token& operator=(keep_alive_token&& o) noexcept {
      std::swap(loop_, o.loop_);
      return *this;
    }
    ~keep_alive_token() {
      if (loop_) loop_->call_soon_threadsafe([l = loop_] { l->remove_external_work(); });
    }

   private:
    event_loop* loop_ = nullptr;
  };
  [[nodiscard]] keep_alive_token keep_alive() noexcept { return keep_alive_token{*this}; }

  // --- Tasks and futures ---------------------------------------------------

  /// loop.create_task(): schedules `t` to start at the next iteration. In
  /// debug mode the task remembers `created_at` (the caller's line) for the
  /// reports that name it; aio's own callers pass an empty site.
  template <class T>
  future<T> create_task(task<T> t, std::string name = {},
                        detail::source_site created_at = detail::source_site::here()) {
    return start_task(std::move(t), name, created_at);
  }
  /// loop.create_future(): a pending future.
  template <class T = void> future<T> create_future();

  /// A pointer to this loop that reads null once the loop is closed: for
  /// objects that may outlive it (done-callbacks of futures).
  [[nodiscard]] std::shared_ptr<event_loop* const> liveness() const { return liveness_; }

  /// Number of tasks made by create_task (or run) that have not finished.
  [[nodiscard]] std::size_t pending_tasks() const noexcept { return pending_tasks_; }
  /// Their names, in creation order (what asyncio.all_tasks() would name).
  [[nodiscard]] std::vector<std::string> pending_task_names() const;

  // --- Machinery for awaitables (not needed by applications) --------------

  /// create_task's body, shared by aio::create_task and task_group: `name` is
  /// taken only when not empty (moving an empty string still costs a copy of
  /// its inline buffer, which showed in spawn_gather).
  template <class T>
  future<T> start_task(task<T>&& t, std::string& name, detail::source_site created_at);

  /// Puts a coroutine on the ready queue: every wake-up goes through here.
  void schedule(std::coroutine_handle<> h) { ready_.push(detail::ready_entry::resume(h)); }
  void schedule(detail::ready_entry e) { ready_.push(e); }
  /// Schedules a new task's first step (`t` was just tracked). Tasks created
  /// one after the other, with nothing scheduled in between, share one
  /// ready-queue entry (task_context::starts_successor): a program that makes
  /// a million tasks does not need a million-entry queue (16 MB) to start
  /// them. The order is the same as with an entry each.
  void schedule_start(detail::task_context& t);
  /// Arms `n` to expire at `deadline_ns` on the loop's clock (now_ns()).
  void add_timer(detail::timer_node& n, std::int64_t deadline_ns) { timers_.push(&n, deadline_ns, false); }
  /// The same for a sleep's timer, which the loop expires itself (see timer_node).
  void add_sleep_timer(detail::timer_slot& n, std::int64_t deadline_ns) { timers_.push(&n, deadline_ns, true); }
  void remove_timer(detail::timer_slot& n) noexcept {
    if (n.armed()) timers_.remove(&n);
  }
  [[nodiscard]] std::int64_t now_ns() const noexcept;
  void track(detail::task_context& t) noexcept;
  void untrack(detail::task_context& t) noexcept;
  /// Work that can still wake the loop from outside its queues (thread-pool
  /// jobs, I/O waiters, keep-alives): while > 0, virtual time does not jump and
  /// an idle loop waits instead of reporting a deadlock.
  void add_external_work() noexcept { ++external_work_; }
  void remove_external_work() noexcept { --external_work_; }
  /// The I/O poller.
  [[nodiscard]] detail::reactor& io() noexcept { return *reactor_; }

  /// Cancels every pending task and runs the loop until they have finished
  /// (what asyncio.run does after the main task returns).
  void cancel_all_tasks() noexcept;

 private:
  template <class T> friend class detail::task_state;
  friend std::vector<task_info> all_tasks(const event_loop& loop);
  void enter(const char* what);
  void throw_if_closed(const char* what) const;
  void leave() noexcept;
  /// One iteration. `waiting_for` is what run_until_complete waits on (for
  /// the deadlock report), or null in run_forever.
  void run_once(const detail::future_state_base* waiting_for);
  void run_until_done(const detail::future_state_base& target);
  void run_ready_debug();
  /// Debug mode: `main` failed; logs the async chain its exception crossed.
  void report_escaping_exception(detail::future_state_base& main) noexcept;
  [[noreturn]] void report_deadlock(const detail::future_state_base* waiting_for);

  std::unique_ptr<detail::reactor> reactor_;
  std::shared_ptr<event_loop*> liveness_;
  std::unique_ptr<thread_pool> default_executor_;
  std::unique_ptr<detail::signal_state, detail::signal_state_deleter> signals_;
  detail::ready_queue ready_;
  detail::timer_queue timers_;
  detail::intrusive_list<detail::task_context> tasks_;
  /// The last task of the latest run of starts (schedule_start), and the
  /// ready queue's back position right after that run's entry.
  detail::task_context* start_run_last_ = nullptr;
  std::uint64_t start_run_end_ = 0;
  std::size_t pending_tasks_ = 0;
  std::size_t external_work_ = 0;
  std::uint64_t task_counter_ = 0;
  std::int64_t virtual_now_ = 0;
  bool virtual_time_ = false;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  bool debug_ = false;
};

/// asyncio.get_running_loop(). Throws invalid_state_error outside a running loop.
event_loop& get_running_loop();
/// The running loop of this thread, or null.
[[nodiscard]] event_loop* running_loop() noexcept;

/// asyncio.run(): runs `main` on a new loop, then cancels and awaits the tasks
/// it left pending, closes the loop and returns main's value (or rethrows).
/// Throws invalid_state_error when called inside a running loop: await the task
/// instead.
template <class T> T run(task<T> main);
/// The same on a virtual-time loop (see virtual_time).
template <class T> T run(task<T> main, virtual_time_t);

namespace detail {
inline void task_context::wake(std::coroutine_handle<> h) noexcept {
  set_waiting_on(nullptr);
  loop->schedule(h);
}
inline void task_context::leave_loop() noexcept { loop->untrack(*this); }
}  // namespace detail

}  // namespace aio

#include <aio/detail/event_loop_impl.hpp>
