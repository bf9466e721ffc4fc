// aio/exceptions.hpp — the error types, as asyncio.exceptions groups them.
//
// Every error derives from std::exception except aio::cancelled_error, which
// deliberately does not: a `catch (const std::exception&)` in user code must not
// swallow a cancellation (Python moved CancelledError out of Exception in 3.8 for
// the same reason). It still has what().
#pragma once

#include <stdexcept>

namespace aio {

/// asyncio.CancelledError. Thrown from the await at which a task was suspended
/// when it was cancelled. Catch it to clean up, then rethrow (`throw;`).
/// Final, so that recognising a cancellation is a type comparison.
class cancelled_error final {
 public:
  [[nodiscard]] const char* what() const noexcept { return "aio::cancelled_error: the task was cancelled"; }
};

/// asyncio.InvalidStateError, widened to every misuse of the API: a result read
/// before it is set, a value set twice, a task awaited twice, aio::run called
/// inside a running loop. The message says what happened and what to do instead.
class invalid_state_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// asyncio.TimeoutError (builtins.TimeoutError): a wait_for / timeout_scope
/// deadline expired and the inner work was cancelled.
class timeout_error : public std::runtime_error {
 public:
  timeout_error() : std::runtime_error("aio::timeout_error: the deadline expired before the work finished") {}
  using std::runtime_error::runtime_error;
};

/// ValueError: a bounded semaphore released too often, task_done() called too often.
class value_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The loop has nothing left to run, no timer, no I/O and no work on other
/// threads, yet the task it was asked to complete is not done: it can never
/// finish. asyncio would hang; aio says so.
class deadlock_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace aio
