// aio/cancellation.hpp — cancellation tokens (no asyncio twin), linked into the
// same mechanism as Task.cancel(), and cancelled_error.
//
// A cancellation_source requests cancellation; the cancellation_tokens it hands
// out observe it; a cancellation_registration runs a callback when it is
// requested. aio::with_cancellation(work, token) runs `work` in the calling task
// and cancels it — cancelled_error at its current await — when the token fires.
//
// Callbacks run synchronously inside source.cancel(), in registration order;
// they should only schedule work (cancel a future, call_soon), as aio's own do.
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/callback.hpp>
#include <aio/detail/current_context.hpp>
#include <aio/detail/intrusive_list.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>

#include <cstdint>
#include <utility>

namespace aio {

namespace detail {
struct registration_node : list_node {
  callback fn;
};
struct cancellation_state {
  std::uint32_t refs = 1;
  bool requested = false;
  intrusive_list<registration_node> registrations;
  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }
};
/// A shared, refcounted pointer to the state (copyable handles share it).
class cancellation_ref {
 public:
  cancellation_ref() noexcept = default;
  explicit cancellation_ref(cancellation_state* s) noexcept : state_(s) {}
  cancellation_ref(const cancellation_ref& o) noexcept : state_(o.state_) {
    if (state_) state_->add_ref();
  }
  cancellation_ref& operator=(cancellation_ref o) noexcept {
    std::swap(state_, o.state_);
    return *this;
  }
  ~cancellation_ref() {
    if (state_) state_->release();
  }
  cancellation_state* get() const noexcept { return state_; }

 private:
  cancellation_state* state_ = nullptr;
};
}  // namespace detail

/// Observes a cancellation_source. A default-constructed token is never cancelled.
class cancellation_token {
 public:
  cancellation_token() noexcept = default;
  [[nodiscard]] bool cancellation_requested() const noexcept { return state_.get() && state_.get()->requested; }
  [[nodiscard]] bool can_be_cancelled() const noexcept { return state_.get() != nullptr; }
  /// Throws cancelled_error if cancellation was requested.
  void throw_if_cancellation_requested() const {
    if (cancellation_requested()) throw cancelled_error{};
  }

 private:
  friend class cancellation_source;
  friend class cancellation_registration;
  explicit cancellation_token(detail::cancellation_ref s) noexcept : state_(std::move(s)) {}
  detail::cancellation_ref state_;
};

/// Requests cancellation. Copies share one state.
class cancellation_source {
 public:
  cancellation_source() : state_(new detail::cancellation_state) {}
  [[nodiscard]] cancellation_token token() const noexcept { return cancellation_token{state_}; }
  /// Requests cancellation and runs the registered callbacks. False if it was
  /// already requested.
  bool cancel();
  [[nodiscard]] bool cancellation_requested() const noexcept { return state_.get()->requested; }

 private:
  detail::cancellation_ref state_;
};

/// Runs `fn` when the token's cancellation is requested — at once, in the
/// constructor, if it already was. Unregisters on destruction (RAII); neither
/// copyable nor movable, since the source links to it.
class cancellation_registration {
 public:
  cancellation_registration(const cancellation_token& token, detail::callback fn);
  cancellation_registration(const cancellation_registration&) = delete;
  cancellation_registration& operator=(const cancellation_registration&) = delete;
  ~cancellation_registration();

 private:
  detail::registration_node node_;
  detail::cancellation_ref state_;
};

/// Runs `work` in the calling task; when `token` fires, the task is cancelled
/// (the work's current await throws cancelled_error), the work finishes its
/// cancellation, and cancelled_error reaches the caller. If the token fired
/// before the call, the work never starts.
/// Cancellation: an outer cancel passes through unchanged.
/// Throws: cancelled_error, or whatever `work` throws.
template <class T>
task<T> with_cancellation(task<T> work, cancellation_token token) {
  token.throw_if_cancellation_requested();
  detail::task_context* ctx = co_await detail::current_context();
  struct balance {  // our cancel is ours to take back, as asyncio's timeout does
    detail::task_context* ctx;
    bool fired = false;
    ~balance() {
      if (fired) ctx->uncancel();
    }
  } b{ctx};
  cancellation_registration reg{token, [&b] {
    b.fired = true;
    b.ctx->request_cancel();
  }};
  co_return co_await std::move(work);
}

}  // namespace aio
