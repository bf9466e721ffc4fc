// aio/catch2.hpp — AIO_TEST_CASE: a Catch2 test case whose body is a coroutine
// (pytest-asyncio's @pytest.mark.asyncio, for Catch2 2.13 and 3.x).
//
//     #include <aio/catch2.hpp>
//
//     AIO_TEST_CASE("fetch_data returns the page", "[fetch]") {
//       std::string page = co_await fetch_data("url1");   // await first...
//       REQUIRE(page == "Data from url1");                // ...then check
//     }
//
// The body runs through aio::testing::run (<aio/testing.hpp>): on a fresh
// virtual-time loop, and the test fails if it leaves tasks pending or if aio
// reports an exception that was never retrieved. REQUIRE, CHECK, INFO, SECTION
// and the rest work inside it as in any test case. A failed REQUIRE ends the
// test as usual (its exception travels out of the coroutine); tasks the body
// left behind are then cancelled and awaited quietly.
//
// NEVER put co_await inside an assertion macro:
//
//     REQUIRE(co_await fetch_data("url1") == "...");    // wrong
//
// Catch2's macros mention their operand more than once (in a
// __builtin_constant_p for a warning, and in the `while (false && ...)` of
// their do-while), and g++ 12 then runs the co_await once for each mention:
// three times (clang 14 runs it once; the rule keeps tests portable). Assign
// the awaited value to a variable, then check the variable, as above. The
// same holds for REQUIRE_THROWS and friends: catch the exception in the body,
// or settle the await first and check the outcome:
//
//     auto [outcome] = co_await aio::gather_settled(might_fail());
//     REQUIRE(outcome.has_exception());
//
// Which Catch2: this header includes nothing if Catch2's macros are already
// defined (TEST_CASE, or CATCH_TEST_CASE under CATCH_CONFIG_PREFIX_ALL), so
// include your Catch2 header first to choose. Otherwise it includes
// <catch2/catch_test_macros.hpp> if it exists (Catch2 3.x), else
// <catch2/catch.hpp> (2.x). With CATCH_CONFIG_PREFIX_ALL, AIO_TEST_CASE
// expands to CATCH_TEST_CASE and reports with CATCH_FAIL.
//
// Only for users who have Catch2: the rest of aio never includes this header.
// Link your tests with aio::aio and Catch2 as usual.
#pragma once

#if !defined(TEST_CASE) && !defined(CATCH_TEST_CASE)
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#elif __has_include(<catch2/catch.hpp>)
#include <catch2/catch.hpp>
#else
#error "<aio/catch2.hpp> needs Catch2: neither <catch2/catch_test_macros.hpp> (3.x) nor <catch2/catch.hpp> (2.x) was found"
#endif
#endif

#include <aio/task.hpp>
#include <aio/testing.hpp>

#define AIO_DETAIL_CATCH2_CAT2(a, b) a##b
#define AIO_DETAIL_CATCH2_CAT(a, b) AIO_DETAIL_CATCH2_CAT2(a, b)

#if defined(CATCH_CONFIG_PREFIX_ALL)
#define AIO_DETAIL_CATCH2_TEST_CASE CATCH_TEST_CASE
#define AIO_DETAIL_CATCH2_FAIL CATCH_FAIL
#else
#define AIO_DETAIL_CATCH2_TEST_CASE TEST_CASE
#define AIO_DETAIL_CATCH2_FAIL FAIL
#endif

// Declares the body as a coroutine `static aio::task<void> fn()`, registers a
// test case that runs it with aio::testing::run, then opens fn's definition:
// the braces after AIO_TEST_CASE(...) are the coroutine's body. A test_failure
// from aio::testing (pending tasks, unretrieved exceptions, require_elapsed)
// is reported as an explicit Catch2 failure carrying its message.
#define AIO_DETAIL_CATCH2_TEST_CASE_IMPL(fn, ...)                        \
  static ::aio::task<void> fn();                                         \
  AIO_DETAIL_CATCH2_TEST_CASE(__VA_ARGS__) {                             \
    try {                                                                \
      ::aio::testing::run(fn());                                         \
    } catch (const ::aio::testing::test_failure& aio_detail_failure) {   \
      AIO_DETAIL_CATCH2_FAIL(aio_detail_failure.what());                 \
    }                                                                    \
  }                                                                      \
  static ::aio::task<void> fn()

/// AIO_TEST_CASE("name", "[tags]") { ...co_await...; } — a Catch2 TEST_CASE
/// whose body is a coroutine run by aio::testing::run. Takes what TEST_CASE
/// takes (a name, optionally tags, including [!shouldfail] / [!mayfail]).
#define AIO_TEST_CASE(...) \
  AIO_DETAIL_CATCH2_TEST_CASE_IMPL(AIO_DETAIL_CATCH2_CAT(aio_test_case_body_, __COUNTER__), __VA_ARGS__)
