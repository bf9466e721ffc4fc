// Explicit instantiations of the result-carrying class templates (asio's
// simple_test.cpp idea): every member that can exist for each T must compile,
// not just the ones other tests happen to use. Then each is run once.
#include <aio/task.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace test_types {
/// A result type that can only be moved.
struct move_only {
  explicit move_only(int v) noexcept : value(v) {}
  move_only(move_only&& o) noexcept : value(std::exchange(o.value, -1)) {}
  move_only& operator=(move_only&& o) noexcept {
    value = std::exchange(o.value, -1);
    return *this;
  }
  move_only(const move_only&) = delete;
  move_only& operator=(const move_only&) = delete;
  ~move_only() = default;
  int value;
};
}  // namespace test_types

using test_types::move_only;

static_assert(!std::is_copy_constructible_v<move_only>);
static_assert(std::is_same_v<aio::task<move_only>::value_type, move_only>);
static_assert(std::is_same_v<decltype(aio::test::run_test(std::declval<aio::task<move_only>>())), move_only>);
static_assert(std::is_same_v<decltype(aio::test::run_test(std::declval<aio::task<int&>>())), int&>);

template class aio::task<void>;
template class aio::task<int>;
template class aio::task<int&>;
template class aio::task<move_only>;
template class aio::future<void>;
template class aio::future<int>;
template class aio::future<move_only>;
template class aio::outcome<int>;
template class aio::outcome<move_only>;

namespace {

aio::task<void> void_task(int* hits) {
  ++*hits;
  co_return;
}
aio::task<int> int_task(int v) { co_return v; }
aio::task<int&> ref_task(int* p) { co_return *p; }
aio::task<move_only> move_only_task(int v) { co_return move_only{v}; }

aio::task<int> all_together() {
  int hits = 0;
  co_await void_task(&hits);
  const int a = co_await int_task(2);
  int x = 30;
  int& b = co_await ref_task(&x);
  CHECK(&b == &x);
  move_only c = co_await move_only_task(400);

  aio::future<void> fv;
  fv.set_result();
  co_await fv;
  aio::future<int> fi;
  fi.set_result(5000);
  const int d = co_await fi;
  aio::future<move_only> fm;
  fm.set_result(move_only{60000});
  move_only e = co_await fm;
  co_return hits + a + b + c.value + d + e.value;
}

}  // namespace

TEST_CASE("instantiations: task<void>, task<int>, task<int&>, task<move_only> run", "[task][instantiations]") {
  int hits = 0;
  aio::test::run_test(void_task(&hits));
  CHECK(hits == 1);
  CHECK(aio::test::run_test(int_task(7)) == 7);
  int x = 3;
  int& r = aio::test::run_test(ref_task(&x));
  CHECK(&r == &x);
  CHECK(aio::test::run_test(move_only_task(9)).value == 9);
  CHECK(aio::test::run_test(all_together()) == 65432 + 1);
}

TEST_CASE("instantiations: future<void>, future<int>, future<move_only> run", "[future][instantiations]") {
  aio::event_loop loop{aio::virtual_time};
  int hits = 0;
  aio::future<void> v = loop.create_task(void_task(&hits));
  loop.run_until_complete(v);
  CHECK(v.done());
  CHECK(hits == 1);

  aio::future<int> i = loop.create_task(int_task(11));
  CHECK(loop.run_until_complete(i) == 11);

  aio::future<move_only> m = loop.create_task(move_only_task(12));
  CHECK(loop.run_until_complete(m).value == 12);
  CHECK(m.result().value == -1);  // handed over to the one awaiter
}

TEST_CASE("instantiations: outcome<int> holds nothing, a value, an error or a cancellation", "[future][instantiations]") {
  aio::outcome<int> empty;
  CHECK_FALSE(empty.has_value());
  CHECK_FALSE(empty.has_exception());
  CHECK_FALSE(empty.cancelled());
  CHECK_FALSE(static_cast<bool>(empty));
  CHECK_THROWS_AS(empty.value(), aio::invalid_state_error);
  CHECK(empty.exception() == nullptr);

  aio::outcome<int> value;
  value.store_value(13);
  CHECK(value.has_value());
  CHECK(static_cast<bool>(value));
  CHECK(value.value() == 13);
  CHECK(std::move(value).value() == 13);
  CHECK(value.exception() == nullptr);

  aio::outcome<int> error;
  error.store_error(std::make_exception_ptr(std::runtime_error("failed")));
  CHECK(error.has_exception());
  CHECK_FALSE(error.has_value());
  CHECK_THROWS_MATCHES(error.value(), std::runtime_error, Catch::Matchers::Message("failed"));

  aio::outcome<int> cancelled;
  cancelled.store_cancelled();
  CHECK(cancelled.cancelled());
  CHECK_FALSE(cancelled.has_exception());
  CHECK_THROWS_AS(cancelled.value(), aio::cancelled_error);
  REQUIRE(cancelled.exception() != nullptr);
  CHECK_THROWS_AS(std::rethrow_exception(cancelled.exception()), aio::cancelled_error);

  aio::outcome<move_only> moved;
  moved.store_value(move_only{14});
  move_only taken = std::move(moved).value();
  CHECK(taken.value == 14);
}
