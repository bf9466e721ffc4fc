// aio::as_completed (asyncio.as_completed), built on async_generator.
// Included at the end of tasks.hpp.
//
// The children run as tasks of their own (create_task, so the loop tracks
// them: names, deadlock reports, close()). Their completions are queued in the
// order they happen, and the generator yields one value per completion.
//
// Lifetime — no child outlives the iteration, with one documented exception:
//   - a child fails (or the consumer is cancelled while waiting in next()):
//     the other children are cancelled and awaited, then the error comes out
//     of next() and the generator is finished;
//   - the consumer stops early with aclose() (or aio::for_each stops on an
//     error): the same — the remaining children are cancelled and awaited
//     inside aclose();
//   - the generator is destroyed while children still run (a `break` out of
//     the loop, or the loop closing): a destructor cannot wait, so the
//     remaining children are cancelled and left to finish their cancellation
//     on the loop during the next iterations; the shared state frees itself
//     when the last one is done. Their arguments must then not refer to
//     anything that dies with the consumer — prefer aclose() or for_each.
#pragma once

#include <aio/detail/current_context.hpp>
#include <aio/detail/future_state.hpp>
#include <aio/detail/gather.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/generator.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace aio::detail {

template <class T>
class as_completed_state {
 public:
  explicit as_completed_state(std::size_t n) : watches_(std::make_unique<watch[]>(n)), size_(n) {
    futures_.reserve(n);
    order_.reserve(n);
  }
  as_completed_state(const as_completed_state&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  void start(std::vector<task<T>>& tasks, event_loop& loop) {
    for (std::size_t i = 0; i < size_; ++i) {
      futures_.push_back(loop.create_task(std::move(tasks[i]), {}, detail::source_site{}));
      watch& w = watches_[i];
      w.owner = this;
      w.index = i;
      w.notify = &on_done;
      futures_[i].state()->add_waiter(&w);
      ++pending_;
    }
  }

  /// The value of child i, or its error rethrown (cancelled_error if it was cancelled).
  gathered_t<T> take(std::size_t i) {
    auto* s = futures_[i].state();
    s->throw_unless_value();
    if constexpr (std::is_void_v<T>) return {};
    else return std::move(s->value());
  }

  void cancel_pending() noexcept {
    for (auto& f : futures_)
      if (!f.done()) f.cancel();
  }

  /// The generator frame is going away: cancel what still runs and free
  /// ourselves once it has all finished.
  void detach() noexcept {
    if (pending_ == 0) {
      delete this;
      return;
    }
    detached_ = true;
    cancel_pending();
  }

  /// Waits for the next completion; returns the child's index.
  class next_completed_operation : waiting_task {
   public:
    explicit next_completed_operation(as_completed_state& s) noexcept : state_(&s) {}
    // Moved only before the await starts (see lock::acquire_operation).
    next_completed_operation(next_completed_operation&& o) noexcept : next_completed_operation(*o.state_) {}
    ~next_completed_operation() {
      if (state_->next_waiter_ == this) state_->next_waiter_ = nullptr;
    }
    // A completion is already queued.
    bool await_ready() const noexcept { return state_->read_ < state_->order_.size(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      state_->next_waiter_ = this;
      suspend(h, detail::suspension_ops_for<&on_cancel, "aio::as_completed">);
    }
    // The completion stays queued until read here, so a cancel loses nothing.
    std::size_t await_resume() {
      if (cancelled_) task_context::throw_cancelled();
      if (context != nullptr) context->throw_if_cancel_pending();
      return state_->order_[state_->read_++];
    }

   private:
    friend class as_completed_state;
    static bool on_cancel(suspension* s) noexcept {
      auto* self = static_cast<next_completed_operation*>(s);
      self->state_->next_waiter_ = nullptr;
      self->cancelled_ = true;
      self->wake();
      return true;
    }
    as_completed_state* state_;
    bool cancelled_ = false;
  };

  /// Waits until every child has finished (they were cancelled); returns true
  /// if the consumer was cancelled meanwhile. Further cancels are absorbed:
  /// the children are already being cancelled.
  class all_finished_operation : waiting_task {
   public:
    explicit all_finished_operation(as_completed_state& s) noexcept : state_(&s) {}
    // Moved only before the await starts (see lock::acquire_operation).
    all_finished_operation(all_finished_operation&& o) noexcept : all_finished_operation(*o.state_) {}
    ~all_finished_operation() {
      if (state_->all_waiter_ == this) state_->all_waiter_ = nullptr;
    }
    bool await_ready() const noexcept { return state_->pending_ == 0; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      state_->all_waiter_ = this;
      suspend(h, detail::suspension_ops_for<&on_cancel, "aio::as_completed">);
    }
    bool await_resume() noexcept {
      if (context != nullptr && context->must_cancel) {
        context->must_cancel = false;
        cancelled_ = true;
      }
      return cancelled_;
    }

   private:
    friend class as_completed_state;
    static bool on_cancel(suspension* s) noexcept {
      static_cast<all_finished_operation*>(s)->cancelled_ = true;
      return true;  // stay until the children are done
    }
    as_completed_state* state_;
    bool cancelled_ = false;
  };

  [[nodiscard]] next_completed_operation next_completed() noexcept { return next_completed_operation{*this}; }
  [[nodiscard]] all_finished_operation all_finished() noexcept { return all_finished_operation{*this}; }

 private:
  struct watch : future_waiter {
    as_completed_state* owner = nullptr;
    std::size_t index = 0;
  };

  static void on_done(future_waiter* w, bool /*discard*/) noexcept {
    auto* self = static_cast<watch*>(w)->owner;
    self->order_.push_back(static_cast<watch*>(w)->index);  // reserved: never reallocates
    --self->pending_;
    if (self->detached_) {
      if (self->pending_ == 0) delete self;
      return;
    }
    if (auto* n = std::exchange(self->next_waiter_, nullptr)) n->wake();
    if (self->pending_ == 0)
      if (auto* a = std::exchange(self->all_waiter_, nullptr)) a->wake();
  }

  std::vector<future<T>> futures_;
  std::unique_ptr<watch[]> watches_;
  std::vector<std::size_t> order_;  // child indices in completion order
  std::size_t read_ = 0;
  std::size_t size_;
  std::size_t pending_ = 0;
  next_completed_operation* next_waiter_ = nullptr;
  all_finished_operation* all_waiter_ = nullptr;
  bool detached_ = false;
};

template <class T>
struct as_completed_owner {
  as_completed_state<T>* state;
  ~as_completed_owner() { state->detach(); }
};

template <class T>
async_generator<gathered_t<T>> as_completed_generator(std::vector<task<T>> tasks) {
  as_completed_owner<T> owner{new as_completed_state<T>(tasks.size())};
  as_completed_state<T>& state = *owner.state;
  task_context* ctx = co_await current_context();
  state.start(tasks, *ctx->loop);
  std::exception_ptr error;
  try {
    for (std::size_t n = 0; n < state.size(); ++n) {
      const std::size_t i = co_await state.next_completed();
      co_yield state.take(i);
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    // A failure, a cancel, or aclose(): no child outlives the iteration.
    state.cancel_pending();
    if (co_await state.all_finished()) task_context::throw_cancelled();
    std::rethrow_exception(error);
  }
}

}  // namespace aio::detail

namespace aio {

/// asyncio.as_completed(aws): yields the children's values in the order they
/// complete. The children start (as tasks of their own, in order) at the
/// first next(). A child's failure comes out of next() once the others were
/// cancelled and have finished; the generator is then done (to go on past
/// failures, make the children return aio::outcome, or use gather_settled).
/// A void child yields std::monostate.
/// Cancellation: cancelling the consumer while it waits in next() cancels
/// every child, waits for them, and next() throws cancelled_error.
/// Stopping early: `co_await gen.aclose()` (or aio::for_each, which does it)
/// cancels the remaining children and waits for them; merely destroying the
/// generator cancels them without waiting (see detail/as_completed.hpp).
/// Throws: invalid_state_error (at once) for a moved-from or awaited task.
/// Example: tests/test_tasks_as_completed.cpp
template <class T>
[[nodiscard]] async_generator<detail::gathered_t<T>> as_completed(std::vector<task<T>> tasks) {
  for (const auto& t : tasks)
    if (!t.valid())
      throw invalid_state_error("aio::as_completed() was given a moved-from or already-awaited task");
  return detail::as_completed_generator<T>(std::move(tasks));
}

}  // namespace aio
