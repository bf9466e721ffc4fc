#include <aio/task_group.hpp>

#include <aio/log.hpp>

#include <cstdio>

namespace aio {

exception_group::exception_group(std::vector<std::exception_ptr> errors) : errors_(std::move(errors)) {
  message_ = "aio::exception_group: " + std::to_string(errors_.size()) + " errors in a task_group";
  for (const auto& e : errors_) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      message_ += "; ";
      message_ += x.what();
    } catch (const cancelled_error& x) {
      message_ += "; ";
      message_ += x.what();
    } catch (...) {
      message_ += "; (an exception not derived from std::exception)";
    }
  }
}

task_group::task_group(detail::task_context* parent) noexcept
    : parent_(parent), cancelling_at_entry_(parent->cancel_requests) {}

task_group::~task_group() {
  if (pending_ == 0) return;
  // Only reachable when the frame running with_task_group is destroyed while
  // suspended — the loop closing. The children go with it: destroying their
  // frames now keeps them from outliving what they reference. (Were the loop
  // running, a child already scheduled could not be destroyed safely; cancel
  // it instead and say so.)
  const bool closing = !parent_->loop->is_running();
  if (!closing)
    log("aio: task_group destroyed while " + std::to_string(pending_) +
        " child task(s) were still running; they are cancelled. Await the group (with_task_group does) before "
        "it goes away.");
  while (!children_.empty()) {
    auto* c = static_cast<child*>(children_.pop_front());
    detail::future_state_base* s = c->state;
    s->remove_waiter(c);
    delete c;
    detail::task_context* t = s->task();
    if (closing) {
      if (t != nullptr && t->root) t->root_done(t->root, true);
    } else {
      s->cancel();
    }
  }
  pending_ = 0;
}

void task_group::check_open() const {
  if (phase_ == phase::done)
    throw invalid_state_error("aio::task_group::create_task(): the task group has finished");
  if (aborting_)
    throw invalid_state_error(
        "aio::task_group::create_task(): the task group is shutting down (a child failed, the body threw, or "
        "the owning task was cancelled)");
}

void task_group::watch(child* c, detail::future_state_base* s) noexcept {
  c->group = this;
  c->state = s;
  c->notify = &on_child_done;
  s->add_waiter(c);
  children_.push_back(c);
  ++pending_;
}

void task_group::on_child_done(detail::future_waiter* w, bool discard) noexcept {
  auto* c = static_cast<child*>(w);
  task_group* g = c->group;
  detail::intrusive_list<child_link>::unlink(c);
  std::exception_ptr error;
  if (!discard && c->state->state() == detail::future_state_base::status::error) error = c->state->exception();
  delete c;
  --g->pending_;
  if (error) {
    g->errors_.push_back(std::move(error));
    if (!g->aborting_) {
      g->abort();
      if (g->phase_ == phase::body) {
        // Interrupt the body at its current await; begin_join() takes this
        // request back (uncancel) so that it is not mistaken for an outside one.
        g->parent_cancel_requested_ = true;
        g->parent_->request_cancel();
      }
    }
  }
  if (g->pending_ == 0)
    if (auto* j = std::exchange(g->joiner_, nullptr)) j->wake();
}

void task_group::abort() noexcept {
  aborting_ = true;
  // Cancelling only schedules: no child finishes (and unlinks) during the walk.
  children_.for_each([](child_link* l) {
    auto* c = static_cast<child*>(l);
    if (!c->state->done()) c->state->cancel();
  });
}

bool task_group::begin_join(std::exception_ptr body_error) noexcept {
  phase_ = phase::joining;
  bool body_cancelled = false;
  if (body_error) {
    if (detail::is_cancellation(body_error)) body_cancelled = true;
    else body_error_ = std::move(body_error);
  }
  if (parent_cancel_requested_) {
    parent_cancel_requested_ = false;
    if (parent_->uncancel() <= cancelling_at_entry_) {
      // Nobody else cancelled the owner: the body's cancelled_error (if any)
      // was ours, and a request of ours that never reached an await is dropped.
      body_cancelled = false;
      parent_->must_cancel = false;
    }
  }
  if (body_cancelled) propagate_cancel_ = true;
  if ((body_cancelled || body_error_) && !aborting_) abort();
  return pending_ > 0;
}

void task_group::end_join() {
  phase_ = phase::done;
  std::vector<std::exception_ptr> errors = std::move(errors_);
  if (body_error_) errors.push_back(std::move(body_error_));
  if (errors.size() == 1) std::rethrow_exception(errors.front());
  if (errors.size() > 1) throw exception_group(std::move(errors));
  if (propagate_cancel_) detail::task_context::throw_cancelled();
}

void task_group::join_operation::await_resume() {
  // Woken because the children are done, but cancelled before we ran: an
  // outside cancel, as asyncio's __aexit__ treats it.
  if (context != nullptr && context->must_cancel) {
    context->must_cancel = false;
    group_->propagate_cancel_ = true;
  }
  group_->end_join();
}

bool task_group::join_operation::on_cancel(detail::suspension* s) noexcept {
  auto* self = static_cast<join_operation*>(s);
  task_group* g = self->group_;
  g->propagate_cancel_ = true;
  if (!g->aborting_) g->abort();
  return true;  // woken when the last child has finished
}

}  // namespace aio
