#include <aio/event_loop.hpp>

#include <aio/detail/sleep.hpp>
#include <aio/future.hpp>
#include <aio/log.hpp>
#include <aio/threads.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <typeinfo>
#include <sstream>

namespace aio {
namespace detail {

/// What call_soon / call_later / call_at schedule. Shared by the loop (while
/// queued or armed) and the callback_handles given out.
struct callback_node : timer_node {
  callback fn;
  event_loop* loop = nullptr;
  std::int64_t deadline = 0;  // call_later / call_at: for callback_handle::when()
  std::uint32_t refs = 1;
  bool cancelled = false;

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }
  /// A ready-queue entry: runs the callback unless cancelled, then drops the
  /// queue's reference. An exception from a callback is reported and the loop
  /// goes on, as asyncio's default exception handler does.
  static void run(void* arg) noexcept {
    auto* self = static_cast<callback_node*>(arg);
    if (!self->cancelled) {
      try {
        self->fn();
      } catch (const std::exception& e) {
        log(std::string("aio: exception in callback: ") + e.what());
      } catch (const cancelled_error&) {
        log("aio: cancelled_error escaped a callback");
      } catch (...) {
        log("aio: unknown exception in callback");
      }
    }
    self->fn.reset();
    self->release();
  }
  static void on_expire(timer_node* t) noexcept {
    auto* self = static_cast<callback_node*>(t);
    self->loop->schedule(ready_entry::callback(self));
  }
};

namespace {
thread_local event_loop* running_loop_tls = nullptr;

/// How far ahead of the step it runs the loop fetches the next steps' task or
/// frame: with many tasks they are out of the caches, and each step does
/// little enough that one miss at a time would dominate.
constexpr std::size_t prefetch_distance = 4;

/// A task's first step reads its state, then its frame: the state was
/// fetched prefetch_distance steps earlier, and gives the frame's address.
inline void prefetch_frame_of_start(const ready_entry& e) noexcept {
  if (e.what() == ready_entry::kind::start)
    __builtin_prefetch(static_cast<const task_context*>(e.pointer())->root.address());
}

/// Does what a ready-queue entry says.
inline void run_entry(ready_entry e) noexcept {
  switch (e.what()) {
    case ready_entry::kind::resume: std::coroutine_handle<>::from_address(e.pointer()).resume(); return;
    case ready_entry::kind::start: task_context::start(e.pointer()); return;
    case ready_entry::kind::callback: callback_node::run(e.pointer()); return;
  }
}

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

bool is_cancellation(const std::exception_ptr& e) noexcept {
#if defined(__GLIBCXX__)
  // Every cancelled task comes through here: asking libstdc++ for the type
  // costs nothing, where a rethrow costs a second unwind (~1 us).
  // cancelled_error is final, so the exact type decides.
  if (const std::type_info* t = e.__cxa_exception_type()) return *t == typeid(cancelled_error);
#endif
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace detail

clock::time_point clock::now() noexcept {
  if (auto* loop = detail::running_loop_tls) return loop->time();
  return time_point{duration{detail::steady_ns()}};
}

event_loop* running_loop() noexcept { return detail::running_loop_tls; }

event_loop& get_running_loop() {
  if (auto* loop = detail::running_loop_tls) return *loop;
  throw invalid_state_error(
      "aio::get_running_loop(): no event loop is running on this thread; start one with aio::run(main())");
}

// --- callback_handle -------------------------------------------------------

callback_handle::callback_handle(detail::callback_node* n) noexcept : node_(n) { node_->add_ref(); }
callback_handle::callback_handle(const callback_handle& o) noexcept : node_(o.node_) {
  if (node_) node_->add_ref();
}
callback_handle& callback_handle::operator=(const callback_handle& o) noexcept {
  if (o.node_) o.node_->add_ref();
  if (node_) node_->release();
  node_ = o.node_;
  return *this;
}
callback_handle::~callback_handle() {
  if (node_) node_->release();
}
void callback_handle::cancel() noexcept {
  if (!node_ || node_->cancelled) return;
  node_->cancelled = true;
  if (node_->armed()) {
    // Disarmed timers never reach the ready queue: drop the heap's reference now.
    node_->loop->remove_timer(*node_);
    node_->release();
  }
}
bool callback_handle::cancelled() const noexcept { return node_ && node_->cancelled; }
time_point callback_handle::when() const noexcept {
  return node_ ? time_point{duration{node_->deadline}} : time_point{};
}

// --- event_loop ------------------------------------------------------------

namespace {
bool debug_from_environment() noexcept {
  const char* v = std::getenv("AIO_DEBUG");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}
}  // namespace

event_loop::event_loop()
    : reactor_(detail::make_reactor(*this)),
      liveness_(std::make_shared<event_loop*>(this)),
      debug_(debug_from_environment()) {}
event_loop::event_loop(virtual_time_t)
    : reactor_(detail::make_reactor(*this)),
      liveness_(std::make_shared<event_loop*>(this)),
      virtual_time_(true),
      debug_(debug_from_environment()) {}

event_loop::~event_loop() {
  if (running_) {
    std::fprintf(stderr, "aio: event_loop destroyed while running; this is a bug in the program\n");
    std::terminate();
  }
  close();
}

std::int64_t event_loop::now_ns() const noexcept { return virtual_time_ ? virtual_now_ : detail::steady_ns(); }
time_point event_loop::time() const noexcept { return time_point{duration{now_ns()}}; }

void event_loop::track(detail::task_context& t) noexcept {
  tasks_.push_back(&t);
  ++pending_tasks_;
}
void event_loop::schedule_start(detail::task_context& t) {
  // The latest run's entry is still the last one queued and has not run yet:
  // its last task was tracked just before `t`, so `t` is its successor.
  if (start_run_last_ != nullptr && ready_.back_position() == start_run_end_ &&
      ready_.front_position() < start_run_end_ && !debug_) {
    start_run_last_->starts_successor = true;
  } else {
    schedule(detail::ready_entry::start(&t));
    start_run_end_ = ready_.back_position();
  }
  start_run_last_ = &t;
}
void event_loop::untrack(detail::task_context& t) noexcept {
  detail::intrusive_list<detail::task_context>::unlink(&t);
  --pending_tasks_;
}

void event_loop::throw_if_closed(const char* what) const {
  if (closed_)
    throw invalid_state_error(std::string("aio::event_loop::") + what +
                              "() on a closed loop: the loop was closed (or aio::run finished); nothing would run it");
}

callback_handle event_loop::call_soon(detail::callback f) {
  throw_if_closed("call_soon");
  auto* node = new detail::callback_node;
  node->fn = std::move(f);
  node->loop = this;
  callback_handle h{node};  // +1 for the handle; the initial reference is the queue's
  schedule(detail::ready_entry::callback(node));
  return h;
}

callback_handle event_loop::call_later(duration delay, detail::callback f) {
  return call_at(time() + delay, std::move(f));
}

callback_handle event_loop::call_at(time_point when, detail::callback f) {
  throw_if_closed("call_at");
  auto* node = new detail::callback_node;
  node->fn = std::move(f);
  node->loop = this;
  node->deadline = when.time_since_epoch().count();
  node->expire = &detail::callback_node::on_expire;
  callback_handle h{node};  // the initial reference is the timer queue's, then the ready queue's
  add_timer(*node, node->deadline);
  return h;
}

void event_loop::enter(const char* what) {
  if (closed_) throw invalid_state_error(std::string("aio::event_loop::") + what + "() on a closed loop");
  if (running_ || detail::running_loop_tls != nullptr)
    throw invalid_state_error(std::string("aio::event_loop::") + what +
                              "() called while an event loop is already running on this thread: inside a "
                              "coroutine, co_await the work instead");
  running_ = true;
  stopping_ = false;
  detail::running_loop_tls = this;
}

void event_loop::leave() noexcept {
  running_ = false;
  stopping_ = false;
  detail::running_loop_tls = nullptr;
}

void event_loop::run_forever() {
  enter("run_forever");
  struct leave_on_exit {
    event_loop* loop;
    ~leave_on_exit() { loop->leave(); }
  } guard{this};
  while (!stopping_) run_once(nullptr);
}

void event_loop::run_until_done(const detail::future_state_base& target) {
  while (!target.done()) {
    if (stopping_)
      throw invalid_state_error(
          "aio::event_loop::run_until_complete(): the loop was stopped before the awaited work completed");
    run_once(&target);
  }
}

void event_loop::run_once(const detail::future_state_base* waiting_for) {
  // Something outside the loop's own queues (I/O, another thread) may still
  // deliver work.
  const bool outside = external_work_ > 0 || reactor_->has_posted();
  if (ready_.empty()) {
    if (timers_.empty() && !outside) report_deadlock(waiting_for);
    const std::int64_t deadline = timers_.empty() ? -1 : timers_.top_deadline();
    if (virtual_time_) {
      if (!outside) {
        // Nothing else can happen before the next timer: jump to it.
        if (deadline > virtual_now_) virtual_now_ = deadline;
        reactor_->poll(0);
      } else {
        // I/O or a thread may deliver first: let virtual time flow in real time
        // until then (jumping would fire timeouts while I/O is in flight).
        const std::int64_t wait = deadline < 0 ? -1 : std::max<std::int64_t>(0, deadline - virtual_now_);
        const std::int64_t start = detail::steady_ns();
        const bool woke = reactor_->poll(wait);
        if (deadline >= 0)
          virtual_now_ = woke ? std::min(deadline, virtual_now_ + (detail::steady_ns() - start)) : deadline;
      }
    } else {
      reactor_->poll(deadline < 0 ? -1 : std::max<std::int64_t>(0, deadline - detail::steady_ns()));
    }
  } else if (outside) {
    reactor_->poll(0);
  }

  // Due timers join the ready queue (in deadline order, FIFO on ties), a
  // batch at a time: popping touches only the queue, so the nodes (in their
  // sleeping frames, long out of the caches) are all fetched at once before
  // any is read, and then the task contexts the sleeps' wake-ups write.
  // Expiring only schedules, so nothing can run between a pop and its expire.
  if (!timers_.empty()) {
    const std::int64_t now = now_ns();
    while (!timers_.empty() && timers_.top_deadline() <= now) {
      detail::due_timer due[16];
      std::size_t count = 0;
      do {
        due[count] = timers_.pop_unmarked();
        __builtin_prefetch(due[count].target(), 1);
        ++count;
      } while (count < std::size(due) && !timers_.empty() && timers_.top_deadline() <= now);
      for (std::size_t i = 0; i < count; ++i) {
        detail::timer_queue::mark_popped(due[i].target());
        if (due[i].is_sleep()) detail::sleep_operation::prefetch_frame(due[i].target());
      }
      for (std::size_t i = 0; i < count; ++i)
        if (due[i].is_sleep()) detail::sleep_operation::prefetch_context(due[i].target());
      for (std::size_t i = 0; i < count; ++i) {
        if (due[i].is_sleep()) detail::sleep_operation::expire(due[i].target());
        else due[i].node()->expire(due[i].node());
      }
    }
  }

  // Run what was ready at this point; what it schedules waits for the next
  // iteration, so no task can starve the others.
  if (debug_) [[unlikely]] {
    run_ready_debug();
    return;
  }
  for (std::size_t n = ready_.size(); n > 0; --n) {
    if (n > 2 * detail::prefetch_distance) __builtin_prefetch(ready_.entry_ahead(2 * detail::prefetch_distance).pointer());
    if (n > detail::prefetch_distance) detail::prefetch_frame_of_start(ready_.entry_ahead(detail::prefetch_distance));
    detail::run_entry(ready_.pop());
  }
}

namespace {
/// Where the task was created, if debug mode kept it.
const detail::source_site* created_site(const detail::task_context& t) noexcept {
  const detail::future_state_base* owner = t.owner();
  return owner ? owner->created_at() : nullptr;
}
/// ", created at file:line" (or nothing), for the slow-step report.
std::string created_where(const detail::task_context& t) {
  const detail::source_site* at = created_site(t);
  return at ? ", created at " + at->location() : std::string();
}
/// " in f at file:line": the innermost await of a suspended task in the
/// program's own code (gather and its kind await inside aio's headers; the
/// line that matters is the user's await of them).
std::string suspended_where(const detail::task_context& t) {
  const std::vector<stack_frame> stack = task_info{t.owner()}.get_stack();
  for (auto f = stack.rbegin(); f != stack.rend(); ++f) {
    if (std::string_view(f->file).find("include/aio/") != std::string_view::npos) continue;
    return " in " + f->function + " at " + f->file + ':' + std::to_string(f->line);
  }
  return {};
}
}  // namespace

void event_loop::run_ready_debug() {
  for (std::size_t n = ready_.size(); n > 0; --n) {
    detail::ready_entry e = ready_.pop();
    // Named before the step runs: a task that finishes takes its name along.
    std::string what = "a callback";
    if (e.what() == detail::ready_entry::kind::start) {
      const auto* t = static_cast<const detail::task_context*>(e.pointer());
      const detail::source_site defined = detail::promise_of(t->root).suspended_at();
      what = "the first step of task '" + t->display_name() + "'" + created_where(*t) + " (coroutine " +
             defined.function() + " at " + defined.location() + ")";
    } else if (e.what() == detail::ready_entry::kind::resume) {
      const detail::promise_base& p = detail::promise_of(std::coroutine_handle<>::from_address(e.pointer()));
      const detail::source_site at = p.suspended_at();
      what = "a step of task '" + p.context_->display_name() + "'" + created_where(*p.context_) + " (resuming " +
             at.function() + " after the await at " + at.location() + ")";
    }
    const std::int64_t start = detail::steady_ns();
    detail::run_entry(e);
    const std::int64_t took = detail::steady_ns() - start;
    if (took > slow_callback_duration.count()) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(took) / 1e9);
      log("aio: executing " + what + " took " + seconds +
          " seconds: it blocked the event loop (use aio::to_thread for blocking work)");
    }
  }
}

std::vector<std::string> event_loop::pending_task_names() const {
  std::vector<std::string> names;
  tasks_.for_each([&](const detail::task_context* t) { names.push_back(t->display_name()); });
  return names;
}

void event_loop::report_deadlock(const detail::future_state_base* waiting_for) {
  std::ostringstream msg;
  msg << "aio: deadlock: nothing is ready, no timer is armed and no I/O or thread work is pending, so ";
  if (waiting_for == nullptr) msg << "run_forever() can never be woken (call stop() from a callback or task)";
  else if (waiting_for->task() != nullptr) msg << "the awaited task can never finish";
  else msg << "the awaited future can never complete (nothing will set it)";
  msg << ". Blocked forever: ";
  bool first = true;
  tasks_.for_each([&](const detail::task_context* t) {
    msg << (first ? "" : ", ") << "'" << t->display_name() << "'";
    if (const detail::suspension* s = t->waiting_on())
      msg << " (waiting on " << s->ops->what << suspended_where(*t) << ")";
    first = false;
  });
  if (first) msg << "no task";
  throw deadlock_error(msg.str());
}

void event_loop::cancel_all_tasks() noexcept {
  if (closed_ || pending_tasks_ == 0) return;
  tasks_.for_each([](detail::task_context* t) { t->request_cancel(); });
  // Run until they have finished their cancellation; a task that refuses to
  // finish (or is blocked forever) is left for close() to destroy.
  try {
    enter("cancel_all_tasks");
  } catch (...) {
    return;
  }
  try {
    while (pending_tasks_ > 0 && !stopping_) run_once(nullptr);
    // What the last completions scheduled (done-callbacks: a gather's wake-up,
    // run_coroutine_threadsafe's promise) still runs, as under asyncio.run.
    for (int i = 0; i < 16 && !ready_.empty() && !stopping_; ++i) run_once(nullptr);
  } catch (const std::exception& e) {
    (void)e;  // a deadlock among the remaining tasks: close() reports them
  }
  leave();
}

thread_pool& event_loop::default_executor() {
  if (!default_executor_) default_executor_ = std::make_unique<thread_pool>();
  return *default_executor_;
}

void event_loop::shutdown_default_executor() noexcept {
  if (default_executor_) default_executor_->shutdown(true);
}

void event_loop::close() {
  if (running_) throw invalid_state_error("aio::event_loop::close() called while the loop is running");
  if (closed_) return;
  closed_ = true;
  *liveness_ = nullptr;
  // Jobs still running post their results to our inbox: let them finish first.
  shutdown_default_executor();
  signals_.reset();  // the process's signal dispositions are restored
  // Tasks that never finished: asyncio would log "Task was destroyed but it is
  // pending!". Their frames are destroyed (running local destructors) and their
  // futures read as cancelled.
  while (!tasks_.empty()) {
    detail::task_context* t = tasks_.front();
    const detail::source_site* created = created_site(*t);  // debug mode only
    std::string suspended = suspended_where(*t);
    log("aio: event loop closed while task '" + t->display_name() + "'" +
        (created ? " (created at " + created->location() + ")" : std::string()) + " was still pending" +
        (suspended.empty() ? std::string() : ", suspended" + suspended) +
        "; it is destroyed. Await or cancel your tasks before the loop closes.");
    t->root_done(t->root, true);  // frame destroyed, future cancelled, untracked, loop ref dropped
  }
  while (!ready_.empty()) {
    detail::ready_entry e = ready_.pop();
    if (e.what() == detail::ready_entry::kind::callback) static_cast<detail::callback_node*>(e.pointer())->release();
  }
  while (!timers_.empty()) {
    const detail::due_timer t = timers_.pop();
    if (!t.is_sleep() && t.node()->expire == &detail::callback_node::on_expire)
      static_cast<detail::callback_node*>(t.node())->release();
  }
}

}  // namespace aio
