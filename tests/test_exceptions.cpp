#include <aio/exceptions.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "support/catch.hpp"

// The hierarchy is the contract: a catch (const std::exception&) sees every
// aio error except a cancellation, as in Python since 3.8.
static_assert(!std::is_base_of_v<std::exception, aio::cancelled_error>);
static_assert(std::is_final_v<aio::cancelled_error>);
static_assert(std::is_base_of_v<std::logic_error, aio::invalid_state_error>);
static_assert(std::is_base_of_v<std::runtime_error, aio::timeout_error>);
static_assert(std::is_base_of_v<std::invalid_argument, aio::value_error>);
static_assert(std::is_base_of_v<std::runtime_error, aio::deadlock_error>);
static_assert(std::is_nothrow_copy_constructible_v<aio::cancelled_error>);

TEST_CASE("catch (const std::exception&) does not swallow a cancellation", "[exceptions]") {
  bool swallowed = false;
  bool seen = false;
  try {
    try {
      throw aio::cancelled_error{};
    } catch (const std::exception&) {
      swallowed = true;
    }
  } catch (const aio::cancelled_error& e) {
    seen = true;
    CHECK(std::string(e.what()) == "aio::cancelled_error: the task was cancelled");
  }
  CHECK_FALSE(swallowed);
  CHECK(seen);
}

TEST_CASE("every other aio error is a std::exception with a message", "[exceptions]") {
  CHECK(std::string(aio::timeout_error{}.what()).find("deadline expired") != std::string::npos);
  CHECK(std::string(aio::invalid_state_error{"what and what to do"}.what()) == "what and what to do");
  CHECK(std::string(aio::value_error{"too many"}.what()) == "too many");
  CHECK(std::string(aio::deadlock_error{"stuck"}.what()) == "stuck");
  int caught = 0;
  auto count = [&](auto error) {
    try {
      throw error;
    } catch (const std::exception&) {
      ++caught;
    }
  };
  count(aio::timeout_error{});
  count(aio::invalid_state_error{"x"});
  count(aio::value_error{"x"});
  count(aio::deadlock_error{"x"});
  CHECK(caught == 4);
}
