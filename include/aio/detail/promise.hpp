// The coroutine promise of aio::task<T>: a non-template base holding the
// continuation, the task context and the exception, with thin typed layers.
#pragma once

#include <aio/detail/frame_allocator.hpp>
#include <aio/detail/source_site.hpp>
#include <aio/detail/task_context.hpp>
#include <aio/detail/value_slot.hpp>

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

// Async stack traces with the line of every await: see await_transform below.
#ifndef AIO_ASYNC_STACKS
#ifdef NDEBUG
#define AIO_ASYNC_STACKS 0
#else
#define AIO_ASYNC_STACKS 1
#endif
#endif
#if AIO_ASYNC_STACKS
#include <aio/detail/awaited_lvalue.hpp>
#endif

namespace aio {
template <class T> class task;
}

namespace aio::detail {

/// Debug mode: records that `e` travelled out of the coroutine at `where`, so
/// that an exception escaping aio::run can be reported with the async chain it
/// crossed (src/introspection.cpp). Free when debug mode is off.
void note_exception_passing(const std::exception_ptr& e, source_site where) noexcept;

/// Where an exception leaving a coroutine waits for the one awaiting it.
///
/// An exception that ends a coroutine is read by its awaiter right after, on
/// the same thread, with nothing in between: the final suspend hands control
/// straight to the awaiter (or, for a task's root, to its context), which
/// takes the exception at once. So it need not wait in every frame: a
/// per-thread slot holds it for that instant, and the frame keeps one bit
/// saying it failed. Every frame is 8 bytes smaller for it (with the 24-byte
/// sleep, a frame sleeping in aio::sleep went from 112 to 96 bytes with g++).
class exception_in_flight {
 public:
  static void put(std::exception_ptr e) noexcept {
    auto& slot = slot_tls;
    if (slot.occupied) std::destroy_at(slot.get());  // not reached: every put is taken before the next
    std::construct_at(slot.get(), std::move(e));
    slot.occupied = true;
  }
  static const std::exception_ptr& peek() noexcept { return *slot_tls.get(); }
  static std::exception_ptr take() noexcept {
    auto& slot = slot_tls;
    assert(slot.occupied && "an exception in flight is taken once");
    std::exception_ptr e = std::move(*slot.get());
    std::destroy_at(slot.get());
    slot.occupied = false;
    return e;
  }

 private:
  // Raw storage, so that the thread-local needs no constructor or destructor
  // call (and so no guard on every access).
  struct storage {
    alignas(std::exception_ptr) unsigned char bytes[sizeof(std::exception_ptr)];
    bool occupied;
    std::exception_ptr* get() noexcept { return std::launder(reinterpret_cast<std::exception_ptr*>(bytes)); }
  };
  static inline thread_local constinit storage slot_tls{};
};

class promise_base : public pooled {
 public:
  struct final_awaiter {
    // Never ready: the frame must stay alive until the awaiter has read the result.
    bool await_ready() const noexcept { return false; }
    // Back to whoever awaited us. If that awaiter is still on the stack (we
    // never suspended), return to it and let it carry on without nesting;
    // otherwise resume it by symmetric transfer. A root (a task's top
    // coroutine) has no awaiter: its context takes the result and wakes the
    // task's future instead.
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      promise_base& p = h.promise();
      if (!p.is_root()) return p.back_to_awaiter();
      p.context_->root_done(h, false);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  // The coroutine's own site (its definition) until its first await: what a
  // never-awaited task is reported with. The compiler falls back to this
  // constructor because no coroutine takes a source_site as its parameters.
  explicit promise_base(source_site defined_at = source_site::here()) noexcept
      : site_(defined_at) {}

  // Lazy: the body starts when the task is awaited or scheduled.
  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept {
    exception_in_flight::put(std::current_exception());
    awaiter_ |= failed_bit;
    note_exception_passing(exception_in_flight::peek(), suspended_at());
  }
  promise_base(const promise_base&) = delete;
  // No destructor that checks for an exception left in flight: there is
  // none (the awaiter takes it before the frame can be destroyed), and
  // destroying a frame is on the path of every await of a task. Were one
  // left, the next put() would release it. The check cost await_chain 0.4 ns
  // (4.3 -> 4.9 ns an await).

  /// The body ended with an exception, which take_exception() hands over once.
  [[nodiscard]] bool failed() const noexcept { return (awaiter_ & failed_bit) != 0; }
  std::exception_ptr take_exception() noexcept {
    awaiter_ &= ~failed_bit;
    return exception_in_flight::take();
  }

#if AIO_ASYNC_STACKS
  /// Every co_await passes through here, leaving behind the line it is on:
  /// the async stack traces (aio::dump_tasks, future::print_stack) read it
  /// from each suspended frame. One store per await (three with clang 14), no
  /// allocation; but a temporary awaitable is moved into the await, and the
  /// frame keeps room for both (330 -> 427 bytes a sleeping task, measured).
  /// So it is on where assertions are (no NDEBUG) and off in release builds,
  /// unless AIO_ASYNC_STACKS says otherwise. A named awaitable is awaited in
  /// place (awaited_lvalue.hpp).
  template <class Awaitable>
    requires(!std::is_reference_v<Awaitable>)
  Awaitable await_transform(Awaitable&& a, source_site at = source_site::here()) noexcept(
      std::is_nothrow_move_constructible_v<Awaitable>) {
    static_assert(std::is_move_constructible_v<Awaitable>,
                  "aio: with AIO_ASYNC_STACKS on, an awaitable awaited as a temporary inside an aio::task must "
                  "be movable; this one is not: give it a name first (`auto op = make_op(); co_await op;`)");
    record_site(at);
    return static_cast<Awaitable&&>(a);
  }
  template <class Awaitable>
  auto await_transform(Awaitable& a, source_site at = source_site::here()) {
    record_site(at);
    return await_lvalue(a);
  }
#endif
  void record_site(source_site at) noexcept { site_ = at; }
  /// The last await this coroutine reached (its definition before the first;
  /// always its definition when AIO_ASYNC_STACKS is off).
  [[nodiscard]] source_site suspended_at() const noexcept { return site_; }

  [[nodiscard]] task_context* context() const noexcept { return context_; }

  /// Who awaits this coroutine: null for a task's root (its context gets the
  /// result), else the awaiting coroutine, resumed when this one finishes (or,
  /// for a generator, yields).
  [[nodiscard]] std::coroutine_handle<> continuation() const noexcept {
    return is_root() ? std::coroutine_handle<>{} : awaiter();
  }

  /// Makes this coroutine a task's root (create_task, a gather child): no
  /// one awaits it, so its awaiter word holds instead the suspension the
  /// whole task waits on (task_context::waiting_on).
  void make_root() noexcept { awaiter_ = static_cast<std::uintptr_t>(start_state::root); }
  [[nodiscard]] bool is_root() const noexcept { return start() == start_state::root; }
  [[nodiscard]] suspension* waiting_on() const noexcept {
    return reinterpret_cast<suspension*>(awaiter_ & ~state_bits);
  }
  void set_waiting_on(suspension* s) noexcept {
    assert((reinterpret_cast<std::uintptr_t>(s) & state_bits) == 0 && "suspensions are 8-byte aligned");
    awaiter_ = reinterpret_cast<std::uintptr_t>(s) | (awaiter_ & state_bits);
  }
  void clear_continuation() noexcept { awaiter_ &= failed_bit; }

  /// Runs this coroutine (`self`, suspended) right here for `awaiter`, which
  /// awaits it. Returns true if `awaiter` must suspend: this coroutine
  /// suspended somewhere and will resume it by symmetric transfer. False: it
  /// already handed control back (finished or yielded without suspending),
  /// and `awaiter` goes on without suspending either, so that sequential
  /// awaits never nest and a million of them use constant stack even where
  /// the compiler does not turn symmetric transfer into a tail call (g++ at
  /// -O0 and under AddressSanitizer).
  bool run_inline_for(std::coroutine_handle<> self, std::coroutine_handle<> awaiter) noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(awaiter.address());
    assert((address & state_bits) == 0 && "coroutine frames are at least 8-byte aligned");
    awaiter_ = address | static_cast<std::uintptr_t>(start_state::inline_running);
    self.resume();
    if (start() == start_state::inline_finished) return false;
    set_start(start_state::scheduled);
    return true;
  }
  /// Where control goes when this coroutine gives it back to its awaiter (at
  /// its end, or a generator's yield): the awaiter, by symmetric transfer; or,
  /// while run_inline_for is still on the stack, back to that.
  std::coroutine_handle<> back_to_awaiter() noexcept {
    if (start() == start_state::inline_running) {
      set_start(start_state::inline_finished);
      return std::noop_coroutine();
    }
    return awaiter();
  }

  task_context* context_ = nullptr;
  source_site site_;  // one pointer with g++ (see source_site.hpp)

 private:
  /// How the awaiter started us (see run_inline_for), and whether the body
  /// failed, kept in the low bits of the awaiter's address: frames are
  /// 16-byte aligned, and every frame in a million-task program is 8 bytes
  /// smaller for each.
  enum class start_state : std::uintptr_t { scheduled, inline_running, inline_finished, root };
  static constexpr std::uintptr_t start_bits = 3;
  static constexpr std::uintptr_t failed_bit = 4;
  static constexpr std::uintptr_t state_bits = start_bits | failed_bit;
  [[nodiscard]] start_state start() const noexcept { return static_cast<start_state>(awaiter_ & start_bits); }
  void set_start(start_state s) noexcept { awaiter_ = (awaiter_ & ~start_bits) | static_cast<std::uintptr_t>(s); }
  /// The awaiter's handle, for a coroutine that is not a root.
  [[nodiscard]] std::coroutine_handle<> awaiter() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(awaiter_ & ~state_bits));
  }

  std::uintptr_t awaiter_ = 0;  // continuation() or, for a root, waiting_on(); | failed_bit | start_state

 protected:
  // The check inline, the rethrow out of line: result() sits on the path of
  // every await of a task, and must stay small enough to be inlined there.
  void rethrow_if_failed() {
    if (failed()) [[unlikely]] rethrow();
  }
  [[noreturn, gnu::noinline, gnu::cold]] void rethrow() { std::rethrow_exception(take_exception()); }
};

template <class T>
class task_promise final : public promise_base {
 public:
  explicit task_promise(source_site defined_at = source_site::here()) noexcept : promise_base(defined_at) {}
  task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) { result_.emplace(std::forward<U>(v)); }

  T result() {
    rethrow_if_failed();
    return result_.take_once();
  }
  value_slot<T>& slot() noexcept { return result_; }

 private:
  value_slot<T> result_;
};

template <class T>
class task_promise<T&> final : public promise_base {
 public:
  explicit task_promise(source_site defined_at = source_site::here()) noexcept : promise_base(defined_at) {}
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { result_.emplace(v); }
  T& result() {
    rethrow_if_failed();
    return result_.get();
  }
  value_slot<T&>& slot() noexcept { return result_; }

 private:
  value_slot<T&> result_;
};

template <>
class task_promise<void> final : public promise_base {
 public:
  explicit task_promise(source_site defined_at = source_site::here()) noexcept : promise_base(defined_at) {}
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void result() { rethrow_if_failed(); }
  value_slot<void>& slot() noexcept { return result_; }

 private:
  [[no_unique_address]] value_slot<void> result_;
};

/// Debug mode: a task<T> destroyed without ever being awaited (src/event_loop.cpp).
void report_never_awaited(const promise_base& never_started) noexcept;

/// The promise of a suspended aio coroutine, from its type-erased handle.
/// Every aio coroutine type's promise is a promise_base at the same offset in
/// its frame, which task_promise and generator_promise check with
/// `static_assert(alignof(P) <= max_promise_alignment)`: both compilers place
/// the promise right after the two resume/destroy pointers, rounded up to its
/// alignment, so any promise aligned to at most 16 bytes sits at offset 16.
inline constexpr std::size_t max_promise_alignment = 16;
inline promise_base& promise_of(std::coroutine_handle<> h) noexcept {
  return std::coroutine_handle<promise_base>::from_address(h.address()).promise();
}

/// Awaitables reach the task context through the awaiting coroutine's promise;
/// only aio coroutines have one.
template <class P>
inline constexpr bool is_aio_promise = std::is_base_of_v<promise_base, P>;

template <class P>
task_context* context_of(std::coroutine_handle<P> h) noexcept {
  static_assert(is_aio_promise<P>,
                "aio awaitables can only be awaited inside an aio::task coroutine "
                "(its promise carries the task context that cancellation needs)");
  return h.promise().context_;
}

inline suspension* task_context::waiting_on() const noexcept {
  return root ? promise_of(root).waiting_on() : nullptr;
}
inline void task_context::set_waiting_on(suspension* s) noexcept { promise_of(root).set_waiting_on(s); }
inline void task_context::adopt_root(std::coroutine_handle<> h) noexcept {
  root = h;
  promise_of(h).context_ = this;
  promise_of(h).make_root();
}

}  // namespace aio::detail
