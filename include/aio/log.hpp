// aio/log.hpp — where aio reports what it cannot throw (asyncio's "asyncio"
// logger): an exception escaping a callback, a task whose exception was never
// retrieved, a loop closed with tasks pending, a failing accept().
//
// One handler for the process; the default writes each message and a newline
// to stderr. Install yours before starting loops (e.g. to route reports into
// your logging, or to collect them in a test). Thread-safe.
#pragma once

#include <functional>
#include <string_view>

namespace aio {

using log_handler = std::function<void(std::string_view message)>;

/// Replaces the handler and returns the previous one. An empty handler
/// restores the default (stderr).
log_handler set_log_handler(log_handler handler);

/// Reports `message` through the handler.
void log(std::string_view message) noexcept;

}  // namespace aio
