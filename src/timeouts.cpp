#include <aio/timeouts.hpp>

namespace aio {

void timeout_scope::enter(detail::task_context* ctx) {
  if (state_ != state::created)
    throw invalid_state_error("aio::timeout_scope::run() called twice: a timeout_scope guards one piece of work");
  ctx_ = ctx;
  state_ = state::entered;
  cancelling_at_enter_ = ctx->cancel_requests;
  if (relative_) when_ = ctx->loop->time() + duration{*relative_};
  timer_.scope = this;
  timer_.expire = &on_deadline;
  arm();
}

void timeout_scope::arm() {
  if (when_) {
    ctx_->loop->add_timer(timer_, when_->time_since_epoch().count());
  }
}

void timeout_scope::disarm() noexcept {
  if (ctx_ != nullptr) ctx_->loop->remove_timer(timer_);
  expiry_.cancel();
}

void timeout_scope::reschedule(std::optional<time_point> when) {
  if (state_ != state::entered)
    throw invalid_state_error(
        "aio::timeout_scope::reschedule() is only possible while the work runs and before it expired");
  disarm();
  when_ = when;
  deferred_ = false;
  arm();
}

void timeout_scope::on_deadline(detail::timer_node* t) noexcept {
  // Decide in the ready phase, once every timer due now has fired: the work's
  // own timer may share this deadline and come later in the heap.
  auto* self = static_cast<deadline_timer*>(t)->scope;
  try {
    self->expiry_ = self->ctx_->loop->call_soon([self] { self->expire(); });
  } catch (...) {
    self->expire();  // out of memory: decide now rather than never
  }
}

void timeout_scope::expire() noexcept {
  // The work's wake-up is already queued: it finished (or got its result) in
  // this very iteration. Give it that iteration before cancelling, so a result
  // that arrives together with the deadline is returned, never dropped.
  if (ctx_->waiting_on() == nullptr && !deferred_) {
    deferred_ = true;
    ctx_->loop->add_timer(timer_, ctx_->loop->now_ns() + 1);
    return;
  }
  state_ = state::expiring;
  ctx_->request_cancel();
}

bool timeout_scope::caused_timeout() noexcept {
  disarm();
  if (state_ == state::expiring) {
    state_ = state::expired;
    return ctx_->uncancel() <= cancelling_at_enter_;
  }
  state_ = state::exited;
  return false;
}

void timeout_scope::exit_normally() noexcept {
  disarm();
  if (state_ == state::expiring) {
    state_ = state::expired;
    ctx_->uncancel();
  } else {
    state_ = state::exited;
  }
}

}  // namespace aio
