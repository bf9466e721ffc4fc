#include <aio/cancellation.hpp>

namespace aio {

bool cancellation_source::cancel() {
  auto* s = state_.get();
  if (s->requested) return false;
  s->requested = true;
  // Pop before running, so a callback may drop other registrations (or its own).
  while (!s->registrations.empty()) {
    detail::registration_node* n = s->registrations.pop_front();
    n->fn();
  }
  return true;
}

cancellation_registration::cancellation_registration(const cancellation_token& token, detail::callback fn)
    : state_(token.state_) {
  node_.fn = std::move(fn);
  auto* s = state_.get();
  if (s == nullptr) return;  // a token that can never be cancelled
  if (s->requested) {
    node_.fn();
    return;
  }
  s->registrations.push_back(&node_);
}

cancellation_registration::~cancellation_registration() {
  if (node_.linked()) detail::intrusive_list<detail::registration_node>::unlink(&node_);
}

}  // namespace aio
