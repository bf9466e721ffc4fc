#include <aio/log.hpp>

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

namespace aio {
namespace {

std::mutex& handler_mutex() {
  static std::mutex m;
  return m;
}
log_handler& current_handler() {
  static log_handler h;
  return h;
}

}  // namespace

log_handler set_log_handler(log_handler handler) {
  std::lock_guard<std::mutex> lock(handler_mutex());
  return std::exchange(current_handler(), std::move(handler));
}

void log(std::string_view message) noexcept {
  std::lock_guard<std::mutex> lock(handler_mutex());
  try {
    if (auto& h = current_handler()) {
      h(message);
      return;
    }
  } catch (...) {
    // A failing handler must not take the loop down: fall back to stderr.
  }
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace aio

#include <aio/detail/future_state.hpp>

namespace aio::detail {

std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

void future_state_base::report_unretrieved(const std::string& name) const noexcept {
  try {
    std::string who = name.empty() ? std::string("aio: future") : "aio: task '" + name + "'";
    if (const source_site* at = created_at()) who += " (created at " + at->location() + ")";  // kept in debug mode
    log(who + " exception was never retrieved: " + exception_message(error_) +
        " (await it, or call result() / exception(), to handle it)");
  } catch (...) {  // out of memory building the message
    log("aio: a future's exception was never retrieved");
  }
}

}  // namespace aio::detail
