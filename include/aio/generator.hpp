// aio/generator.hpp — asynchronous generators (Python's `async def` with
// `yield`): aio::async_generator<T>, and aio::for_each to consume one.
//
//   aio::async_generator<int> ticks(int n) {
//     for (int i = 0; i < n; ++i) {
//       co_await aio::sleep(1s);
//       co_yield i;
//     }
//   }
//   auto gen = ticks(3);
//   while (auto i = co_await gen.next()) use(*i);      // `async for i in ticks(3)`
//   co_await aio::for_each(ticks(3), use);             // the same, closing early on error
//
// The body is lazy (it starts at the first next()) and runs inside the task
// that calls next(): its awaits are that task's suspension points, so
// cancelling the task reaches an await inside the generator, and the
// cancelled_error comes out of next() unless the body handles it. A body that
// yields without awaiting runs without suspending the consumer, like a
// Python async generator that does not await.
//
// Stopping early: aclose() (Python's aclose()) throws a private exit
// exception into the body at its co_yield, so that its cleanup — catch blocks,
// destructors, even co_awaits — runs; for_each calls it when the consumer
// fails. Destroying a suspended generator destroys its frame (locals'
// destructors run, but no code after the co_yield).
//
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/promise.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>

#include <concepts>
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace aio {

template <class T>
class async_generator;

namespace detail {

/// What aclose() throws into a generator at its co_yield (Python's
/// GeneratorExit). Deliberately not a std::exception: rethrow it if you catch
/// everything.
struct generator_exit {};

template <class T>
class generator_promise final : public promise_base {
 public:
  explicit generator_promise(source_site defined_at = source_site::here()) noexcept : promise_base(defined_at) {}
  async_generator<T> get_return_object() noexcept;

  // A yield and the end both go back to the consumer: by symmetric transfer,
  // or by returning, if its next() is still on the stack (back_to_awaiter).
  struct yield_awaiter {
    generator_promise* promise;
    // A yield always hands the value to the consumer.
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return promise->back_to_awaiter(); }
    // Resumed by next() (go on) or by aclose() (unwind).
    void await_resume() const {
      if (promise->closing_) throw generator_exit{};
    }
  };
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<generator_promise> h) noexcept {
      h.promise().finished_ = true;
      return h.promise().back_to_awaiter();
    }
    void await_resume() const noexcept {}
  };

  final_awaiter final_suspend() const noexcept { return {}; }
  template <class U = T>
    requires std::constructible_from<T, U&&>
  yield_awaiter yield_value(U&& v) {
    value_.emplace(std::forward<U>(v));
    return yield_awaiter{this};
  }
  void return_void() const noexcept {}

  std::optional<T> value_;
  bool started_ = false;
  bool finished_ = false;
  bool closing_ = false;
};

/// Resumes the generator until its next co_yield (or its end) on behalf of
/// next() and aclose().
template <class T>
class generator_step {
 public:
  using handle_type = std::coroutine_handle<generator_promise<T>>;
  generator_step(handle_type h, bool close) noexcept : handle_(h), close_(close) {}

  // Finished (or never started, for aclose): nothing to run.
  bool await_ready() const {
    if (!handle_)
      throw invalid_state_error("aio::async_generator used after it was moved from");
    auto& p = handle_.promise();
    if (p.continuation())
      throw invalid_state_error(
          "aio::async_generator::next() called while another next() or aclose() of it is pending");
    if (p.finished_) return true;
    if (close_ && !p.started_) {
      p.finished_ = true;  // Python: closing an unstarted generator just marks it closed
      return true;
    }
    return false;
  }
  // Run the body here, inside the consumer's task. If it yields (or ends)
  // without suspending, carry on without suspending either; if it suspends
  // at an await, so does the consumer, and the body's next yield resumes it.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> consumer) {
    auto& p = handle_.promise();
    p.context_ = context_of(consumer);
    p.closing_ = close_;
    p.started_ = true;
    return p.run_inline_for(handle_, consumer);
  }

 protected:
  /// Rethrows what the body threw (once).
  void finish_step() {
    auto& p = handle_.promise();
    p.clear_continuation();
    if (p.failed()) std::rethrow_exception(p.take_exception());
  }
  handle_type handle_;
  bool close_;
};

}  // namespace detail

/// An asynchronous generator of T: a coroutine that can both co_await and
/// co_yield. Move-only; destroying it destroys the coroutine frame.
/// Example: tests/test_generator.cpp; aio::as_completed returns one.
template <class T>
class [[nodiscard("a generator does nothing until next() is awaited")]] async_generator {
  static_assert(std::is_object_v<T>, "aio::async_generator<T>: T must be an object type (not a reference or void)");

 public:
  using promise_type = detail::generator_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  class next_operation;
  class close_operation;

  async_generator() noexcept = default;
  explicit async_generator(handle_type h) noexcept : handle_(h) {}
  async_generator(async_generator&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  async_generator& operator=(async_generator&& o) noexcept {
    if (this != &o) {
      destroy();
      handle_ = std::exchange(o.handle_, {});
    }
    return *this;
  }
  ~async_generator() { destroy(); }

  /// `__anext__`: runs the body to its next co_yield and returns the value;
  /// nullopt once the body has returned.
  /// Resumes: when the body yields or returns (at once if it does so without
  /// suspending).
  /// Cancellation: reaches the await the body is suspended at; what the body
  /// does not handle comes out of next(), and the generator is then finished.
  /// Throws: what the body throws (then the generator is finished);
  /// invalid_state_error if another next() is pending.
  [[nodiscard]] next_operation next() noexcept { return next_operation{handle_}; }
  /// `aclose()`: throws an exit exception into the body at its co_yield, runs
  /// it to its end (cleanup may await), and finishes the generator. Nothing
  /// happens if it never started or has finished.
  /// Throws: what the cleanup throws; invalid_state_error if the body yields
  /// again instead of finishing.
  [[nodiscard]] close_operation aclose() noexcept { return close_operation{handle_}; }

  /// The body has returned, thrown, or been closed.
  [[nodiscard]] bool done() const noexcept { return !handle_ || handle_.promise().finished_; }

 private:
  void destroy() noexcept {
    if (handle_) handle_.destroy();
  }
  handle_type handle_;
};

template <class T>
class async_generator<T>::next_operation : public detail::generator_step<T> {
 public:
  explicit next_operation(handle_type h) noexcept : detail::generator_step<T>(h, false) {}
  std::optional<T> await_resume() {
    this->finish_step();
    auto& p = this->handle_.promise();
    if (p.finished_) return std::nullopt;
    std::optional<T> v{std::move(p.value_)};
    p.value_.reset();
    return v;
  }
};

template <class T>
class async_generator<T>::close_operation : public detail::generator_step<T> {
 public:
  explicit close_operation(handle_type h) noexcept : detail::generator_step<T>(h, true) {}
  void await_resume() {
    auto& p = this->handle_.promise();
    try {
      this->finish_step();
    } catch (const detail::generator_exit&) {
      return;  // the body unwound as asked
    }
    if (!p.finished_) {
      p.finished_ = true;
      p.value_.reset();
      throw invalid_state_error("aio::async_generator ignored aclose(): its body yielded again instead of finishing");
    }
  }
};

namespace detail {
template <class T>
async_generator<T> generator_promise<T>::get_return_object() noexcept {
  static_assert(alignof(generator_promise) <= max_promise_alignment, "see promise_of()");
  return async_generator<T>{std::coroutine_handle<generator_promise>::from_promise(*this)};
}

template <class R>
inline constexpr bool is_task_v = false;
template <class R>
inline constexpr bool is_task_v<task<R>> = true;
}  // namespace detail

/// `async for item in gen: f(item)`: calls f with every value of `gen`, in
/// order; f may be a plain function or return an aio::task (then awaited).
/// If f throws, the generator is closed (aclose) before the error propagates.
/// Cancellation: as next() or f's awaits; the generator is closed.
/// Throws: what the generator or f throws.
template <class T, class F>
  requires std::invocable<F&, T&&>
task<> for_each(async_generator<T> gen, F f) {
  std::exception_ptr error;
  try {
    while (auto item = co_await gen.next()) {
      if constexpr (detail::is_task_v<std::invoke_result_t<F&, T&&>>) {
        co_await std::invoke(f, std::move(*item));
      } else {
        std::invoke(f, std::move(*item));
      }
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    if (!gen.done()) {
      try {
        co_await gen.aclose();
      } catch (...) {  // the original error is the one to report
      }
    }
    std::rethrow_exception(error);
  }
}

}  // namespace aio
