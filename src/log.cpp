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

void future_state_base::report_unretrieved(const std::string& name) const noexcept {
  std::string what = "(not a std::exception)";
  try {
    std::rethrow_exception(error_);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::string who = name.empty() ? std::string("aio: future") : "aio: task '" + name + "'";
  if (const source_site* at = created_at())  // kept in debug mode
    who += " (created at " + std::string(at->file()) + ":" + std::to_string(at->line()) + ")";
  log(who + " exception was never retrieved: " + what + " (await it, or call result() / exception(), to handle it)");
}

}  // namespace aio::detail
