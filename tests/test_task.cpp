// Tests for aio/task.hpp: results (T, T&, void, move-only), exception
// propagation, single-await ownership, laziness and frame lifetime, the
// constant-stack guarantee of long chains of awaits, and the frame pool.
#include <aio/task.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <aio/detail/frame_allocator.hpp>
#include <aio/detail/sleep.hpp>
#include <aio/detail/task_state.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using aio::test::counted;
using aio::test::now_seconds;

// --- static checks -----------------------------------------------------------

template <class T>
using await_result_t = decltype(std::declval<typename aio::task<T>::awaiter&>().await_resume());

static_assert(std::is_same_v<aio::task<>, aio::task<void>>);
static_assert(!std::is_copy_constructible_v<aio::task<int>>, "task is move-only");
static_assert(!std::is_copy_assignable_v<aio::task<int>>, "task is move-only");
static_assert(std::is_nothrow_move_constructible_v<aio::task<int>>);
static_assert(std::is_nothrow_move_assignable_v<aio::task<int>>);
static_assert(std::is_nothrow_default_constructible_v<aio::task<int>>);
static_assert(!std::is_convertible_v<aio::task<int>, bool>, "operator bool is explicit");
static_assert(std::is_same_v<aio::task<int>::value_type, int>);
static_assert(std::is_same_v<aio::task<int&>::value_type, int&>);
static_assert(std::is_same_v<await_result_t<int>, int>);
static_assert(std::is_same_v<await_result_t<int&>, int&>);
static_assert(std::is_same_v<await_result_t<void>, void>);
static_assert(std::is_same_v<await_result_t<std::unique_ptr<int>>, std::unique_ptr<int>>);
static_assert(std::is_same_v<decltype(aio::test::run_test(std::declval<aio::task<int>>())), int>);
static_assert(std::is_base_of_v<std::logic_error, aio::invalid_state_error>);

namespace {

// --- coroutines under test (free functions, parameters by value) -------------

aio::task<int> answer() { co_return 42; }

aio::task<int> answer_after_sleep() {
  co_await aio::sleep(1s);
  co_return 43;
}

aio::task<void> set_flag(int* flag, int value) {
  *flag = value;
  co_return;
}

aio::task<void> set_flag_after_sleep(int* flag, int value) {
  co_await aio::sleep(2s);
  *flag = value;
}

aio::task<int&> pick(int* a, int* b, bool first) {
  if (first) co_return *a;
  co_return *b;
}

aio::task<int&> pick_after_sleep(int* a, int* b, bool first) {
  co_await aio::sleep(500ms);
  co_return co_await pick(a, b, first);
}

aio::task<std::string> value_results() {
  std::string log;
  log += std::to_string(co_await answer()) + ",";
  log += std::to_string(co_await answer_after_sleep()) + ",";
  int flag = 0;
  co_await set_flag(&flag, 7);
  log += std::to_string(flag) + ",";
  co_await set_flag_after_sleep(&flag, 8);
  log += std::to_string(flag) + "@" + std::to_string(now_seconds());
  co_return log;
}

aio::task<int> reference_results() {
  int x = 1;
  int y = 2;
  int& rx = co_await pick(&x, &y, true);
  int& ry = co_await pick_after_sleep(&x, &y, false);
  CHECK(&rx == &x);
  CHECK(&ry == &y);
  rx = 10;  // writes through the reference land in the original objects
  ry = 20;
  co_return x + y;
}

// Exceptions ------------------------------------------------------------------

struct coded_error : std::runtime_error {
  explicit coded_error(int c) : std::runtime_error("coded_error " + std::to_string(c)), code(c) {}
  int code;
};

aio::task<int> thrower(int code, bool suspend_first) {
  if (suspend_first) co_await aio::sleep(1s);
  throw coded_error(code);
  co_return 0;  // NOLINT: unreachable, keeps this a coroutine returning int
}

aio::task<int> middle(int code, bool suspend_first, int* reached_after) {
  try {
    int v = co_await thrower(code, suspend_first);
    *reached_after = 1;  // must never run
    co_return v;
  } catch (const std::logic_error&) {
    *reached_after = 2;  // wrong handler: coded_error is a runtime_error
  }
  co_return -1;
}

aio::task<int> outer(int code, bool suspend_first, int* reached_after) {
  int v = co_await middle(code, suspend_first, reached_after);
  *reached_after = 3;  // must never run either
  co_return v;
}

aio::task<std::string> catches_in_the_middle(bool suspend_first) {
  int reached = 0;
  std::string out;
  try {
    co_await outer(5, suspend_first, &reached);
  } catch (const coded_error& e) {
    out = "caught " + std::to_string(e.code);
  }
  out += " reached=" + std::to_string(reached) + " t=" + std::to_string(now_seconds());
  co_return out;
}

// Move-only results -----------------------------------------------------------

aio::task<std::unique_ptr<int>> make_box(int v) { co_return std::make_unique<int>(v); }

aio::task<std::unique_ptr<int>> make_box_after_sleep(int v) {
  co_await aio::sleep(1s);
  auto inner = co_await make_box(v * 2);
  co_return inner;
}

aio::task<int> unbox_both() {
  std::unique_ptr<int> a = co_await make_box(3);
  std::unique_ptr<int> b = co_await make_box_after_sleep(4);
  REQUIRE(a);
  REQUIRE(b);
  co_return *a * 100 + *b;
}

// Ownership: one await per task ------------------------------------------------

aio::task<std::string> await_moved_from() {
  aio::task<int> t = answer();
  aio::task<int> moved = std::move(t);
  std::string message;
  try {
    co_await t;  // moved-from: throws in the awaiting coroutine, no crash
  } catch (const aio::invalid_state_error& e) {
    message = e.what();
  }
  int v = co_await moved;  // the task it was moved to is intact
  CHECK(v == 42);
  co_return message;
}

aio::task<std::string> await_default_constructed() {
  aio::task<void> t;
  try {
    co_await t;
  } catch (const aio::invalid_state_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

aio::task<std::string> await_lvalue_twice() {
  aio::task<int> t = answer_after_sleep();
  CHECK(t.valid());
  int v = co_await t;  // an lvalue task is consumed by the await
  CHECK(v == 43);
  CHECK_FALSE(t.valid());
  CHECK_FALSE(static_cast<bool>(t));
  try {
    co_await t;
  } catch (const aio::invalid_state_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

// Laziness and lifetime -----------------------------------------------------------

aio::task<void> never_awaited(int* ran, counted parameter) {
  *ran = 1;
  counted local{parameter.value + 1};
  co_return;
}

aio::task<int> holds_counted(int v) {
  counted local{v};
  co_await aio::sleep(1s);
  co_return local.value;
}

aio::task<int> drop_unawaited_tasks(int* ran) {
  {
    aio::task<void> t = never_awaited(ran, counted{1});
    co_await aio::sleep(1s);  // the loop runs; the task still does not
    CHECK(*ran == 0);
    CHECK(counted::alive == 1);  // only the parameter copy inside the frame
  }
  CHECK(counted::alive == 0);
  int v = co_await holds_counted(9);
  CHECK(counted::alive == 0);
  co_return v;
}

// Deep chains --------------------------------------------------------------------

aio::task<std::int64_t> identity(int i) { co_return i; }

aio::task<std::int64_t> million_sequential_awaits() {
  std::int64_t sum = 0;
  for (int i = 0; i < 1'000'000; ++i) sum += co_await identity(i);
  co_return sum;
}

aio::task<int> recurse(int depth, bool sleep_at_leaf) {
  if (depth == 0) {
    if (sleep_at_leaf) co_await aio::sleep(1s);
    co_return 0;
  }
  int below = co_await recurse(depth - 1, sleep_at_leaf);
  co_return below + 1;
}

aio::task<int> sleepy_identity(int i) {
  co_await aio::sleep(1ms);
  co_return i;
}

aio::task<int> immediate_identity(int i) { co_return i; }

aio::task<int> yielding_identity(int i) {
  co_await aio::yield();
  co_return i;
}

// i % 3 == 0 sleeps 1 ms, i % 3 == 1 finishes at once, i % 3 == 2 yields.
aio::task<std::int64_t> mixed_children(std::vector<int>* order, double* elapsed) {
  std::int64_t sum = 0;
  for (int i = 0; i < 100; ++i) {
    aio::task<int> child = (i % 3 == 0) ? sleepy_identity(i) : (i % 3 == 1 ? immediate_identity(i) : yielding_identity(i));
    int v = co_await std::move(child);
    order->push_back(v);
    sum += v;
  }
  *elapsed = now_seconds();
  co_return sum;
}

}  // namespace

// --- results -------------------------------------------------------------------

TEST_CASE("task: value and void results, with and without suspending", "[task]") {
  CHECK(aio::test::run_test(answer()) == 42);
  CHECK(aio::test::run_test(answer_after_sleep()) == 43);
  int flag = 0;
  aio::test::run_test(set_flag(&flag, 5));
  CHECK(flag == 5);
  CHECK(aio::test::run_test(value_results()) == "42,43,7,8@3.000000");
}

TEST_CASE("task<T&> returns a reference to the original object", "[task]") {
  CHECK(aio::test::run_test(reference_results()) == 30);

  int x = 1;
  int y = 2;
  int& r = aio::test::run_test(pick_after_sleep(&x, &y, true));
  CHECK(&r == &x);
}

TEST_CASE("task: exceptions propagate through nested awaits", "[task]") {
  SECTION("thrown without suspending") {
    CHECK(aio::test::run_test(catches_in_the_middle(false)) == "caught 5 reached=0 t=0.000000");
  }
  SECTION("thrown after a suspension") {
    CHECK(aio::test::run_test(catches_in_the_middle(true)) == "caught 5 reached=0 t=1.000000");
  }
  SECTION("out of aio::run, with its type and payload") {
    int reached = 0;
    try {
      aio::test::run_test(outer(17, true, &reached));
      FAIL("no exception");
    } catch (const coded_error& e) {
      CHECK(e.code == 17);
      CHECK(std::string(e.what()) == "coded_error 17");
    }
    CHECK(reached == 0);
  }
}

TEST_CASE("task: move-only result type", "[task]") {
  CHECK(aio::test::run_test(unbox_both()) == 308);
  std::unique_ptr<int> p = aio::test::run_test(make_box_after_sleep(21));
  REQUIRE(p);
  CHECK(*p == 42);
}

// --- ownership -------------------------------------------------------------------

TEST_CASE("task: awaiting a moved-from task throws invalid_state_error", "[task]") {
  const std::string message = aio::test::run_test(await_moved_from());
  CHECK_THAT(message, Catch::Matchers::Contains("moved from"));
  CHECK_THAT(message, Catch::Matchers::Contains("awaited once"));
  CHECK_THAT(message, Catch::Matchers::Contains("create_task"));

  CHECK_THAT(aio::test::run_test(await_default_constructed()), Catch::Matchers::Contains("moved from"));
}

TEST_CASE("task: awaiting an lvalue task consumes it", "[task]") {
  CHECK_THAT(aio::test::run_test(await_lvalue_twice()), Catch::Matchers::Contains("already awaited"));
}

TEST_CASE("task: a moved-from task is rejected by run and create_task", "[task]") {
  aio::task<int> t = answer();
  aio::task<int> moved = std::move(t);
  CHECK_FALSE(t.valid());
  CHECK(moved.valid());
  CHECK_THROWS_AS(aio::test::run_test(std::move(t)), aio::invalid_state_error);
  CHECK(aio::test::run_test(std::move(moved)) == 42);
}

// --- laziness and lifetime ---------------------------------------------------------

TEST_CASE("task: lazy; a task never awaited never runs, and dropping it frees its frame", "[task]") {
  counted::reset();
  int ran = 0;
  {
    aio::task<void> t = never_awaited(&ran, counted{3});
    CHECK(t.valid());
    CHECK(ran == 0);
    CHECK(counted::alive == 1);        // the frame's copy of the parameter
    CHECK(counted::constructed == 2);  // the argument and its copy in the frame
  }
  CHECK(ran == 0);
  CHECK(counted::alive == 0);
  CHECK(counted::constructed == 2);  // the body's local was never constructed

  SECTION("inside a running loop too") {
    counted::reset();
    CHECK(aio::test::run_test(drop_unawaited_tasks(&ran)) == 9);
    CHECK(ran == 0);
    CHECK(counted::alive == 0);
  }
  SECTION("move-assigning over a task destroys the old frame") {
    counted::reset();
    aio::task<void> a = never_awaited(&ran, counted{1});
    aio::task<void> b = never_awaited(&ran, counted{2});
    CHECK(counted::alive == 2);
    a = std::move(b);
    CHECK(counted::alive == 1);
    CHECK(a.valid());
    CHECK_FALSE(b.valid());
    aio::test::run_test(std::move(a));
    CHECK(ran == 1);
    CHECK(counted::alive == 0);
  }
}

// --- deep chains -----------------------------------------------------------------

TEST_CASE("task: a million sequential awaits use constant stack", "[task]") {
  CHECK(aio::test::run_test(million_sequential_awaits()) == std::int64_t{999'999} * 1'000'000 / 2);
}

TEST_CASE("task: deep but bounded recursion", "[task]") {
  CHECK(aio::test::run_test(recurse(1000, false)) == 1000);
  CHECK(aio::test::run_test(recurse(1000, true)) == 1000);
}

TEST_CASE("task: children that suspend and children that do not, mixed in a loop", "[task]") {
  std::vector<int> order;
  double elapsed = -1;
  CHECK(aio::test::run_test(mixed_children(&order, &elapsed)) == 4950);
  CHECK(elapsed == Approx(0.034).margin(1e-9));  // 34 sleeping children of 1 ms each
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

// --- the frame pool (detail/frame_allocator.hpp) ------------------------------------
// Every coroutine frame and task state comes from it, so these drive it
// directly with the patterns tasks produce: bursts freed in random order
// (timers, locks), reuse at once (a child awaited in a loop), other threads.

namespace {

struct pool_block {
  std::byte* at;
  std::size_t size;
  std::uint8_t mark;
  std::size_t alignment;
};

/// Allocates a block (a frame unless `alignment` says 8) and fills it with `mark`.
pool_block allocate_marked(std::size_t size, std::uint8_t mark, std::size_t alignment = 16) {
  pool_block b{static_cast<std::byte*>(aio::detail::pool_allocate(size, alignment)), size, mark, alignment};
  std::memset(b.at, b.mark, b.size);
  return b;
}
bool aligned(const pool_block& b) { return reinterpret_cast<std::uintptr_t>(b.at) % b.alignment == 0; }
bool intact(const pool_block& b) {
  for (std::size_t i = 0; i < b.size; ++i)
    if (b.at[i] != std::byte{b.mark}) return false;
  return true;
}
/// Frees the last `count` blocks of `blocks` (and drops them from it),
/// returning how many had lost their mark: another block overlapped them.
std::size_t free_checked(std::vector<pool_block>& blocks, std::size_t count) {
  std::size_t broken = 0;
  for (std::size_t i = 0; i < count; ++i) {
    broken += !intact(blocks.back());
    aio::detail::pool_deallocate(blocks.back().at, blocks.back().size, blocks.back().alignment);
    blocks.pop_back();
  }
  return broken;
}

}  // namespace

// An exception leaving a coroutine waits in a per-thread slot until its
// awaiter takes it (promise.hpp, exception_in_flight): these would mix two up
// if one were ever left there or taken twice.
aio::task<int> fail_with(std::string what, bool suspend_first) {
  if (suspend_first) co_await aio::yield();
  throw std::runtime_error(what);
}
aio::task<std::string> relay(std::string what, bool suspend_first) {
  try {
    co_await fail_with(what, suspend_first);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("relayed ") + e.what());
  }
  co_return "not reached";
}
aio::task<std::string> failures_in_turn() {
  std::string log;
  auto message = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return std::string(x.what());
    }
  };
  for (const bool suspend : {false, true}) {
    std::exception_ptr first, second;
    try {
      co_await fail_with("first", suspend);
    } catch (...) {
      first = std::current_exception();
    }
    // Another failure while the first is still held (no co_await in a handler).
    try {
      co_await relay("second", !suspend);
    } catch (...) {
      second = std::current_exception();
    }
    log += message(first) + "|" + message(second) + ";";
  }
  // Two tasks failing in the same iteration, and one succeeding between them.
  aio::future<int> a = aio::create_task(fail_with("a", true));
  aio::future<std::string> b = aio::create_task(relay("b", true));
  aio::future<int> c = aio::create_task(fail_with("c", false));
  co_await aio::yield();
  co_await aio::yield();
  for (auto* f : {static_cast<aio::future<int>*>(&a), &c}) {
    try {
      (void)f->result();
    } catch (const std::exception& e) {
      log += e.what();
    }
  }
  try {
    (void)b.result();
  } catch (const std::exception& e) {
    log += std::string("|") + e.what();
  }
  int caught = 0;
  for (int i = 0; i < 10'000; ++i) {
    try {
      co_await fail_with("many", i % 2 == 0);
    } catch (const std::runtime_error&) {
      ++caught;
    }
  }
  log += "|" + std::to_string(caught);
  co_return log;
}

TEST_CASE("task: each exception reaches its own awaiter, also while another is being handled", "[task]") {
  CHECK(aio::test::run_test(failures_in_turn()) ==
        "first|relayed second;first|relayed second;ac|relayed b|10000");
}

TEST_CASE("the per-task objects keep the sizes memory_tasks was measured with", "[task]") {
  // bench/README.md: a sleeping task is its frame, its task state, its timer
  // and its future. These are the x86-64 sizes; a change that grows one shows
  // up here before it shows up as bytes per task.
  CHECK(sizeof(aio::detail::task_state<void>) == 64);
  CHECK(sizeof(aio::detail::task_state<long>) == 72);
  CHECK(sizeof(aio::detail::sleep_operation) == 24);
  CHECK(sizeof(aio::future<void>) == sizeof(void*));
}

TEST_CASE("frame pool: frames and 8-byte-aligned objects never share a size class", "[task][frame_pool]") {
  // Sharing one made frees of frames and task states alternate on each
  // list, which the pool then took for scattered frees (44 -> 74 ns a task).
  using aio::detail::block_size;
  using aio::detail::pool_class;
  constexpr std::size_t unpooled = aio::detail::frame_free_lists::classes;
  std::size_t shared = 0, too_small = 0, wasteful = 0;
  for (std::size_t frame = 1; frame <= 1008; ++frame)
    for (std::size_t object = 1; object <= 1016; ++object)
      shared += pool_class(frame, 16) == pool_class(object, 8);
  for (std::size_t size = 1; size <= 1008; ++size) {
    too_small += block_size(pool_class(size, 16)) < size || block_size(pool_class(size, 8)) < size;
    wasteful += block_size(pool_class(size, 16)) >= std::max<std::size_t>(size, 16) + 16 ||
                block_size(pool_class(size, 8)) >= std::max<std::size_t>(size, 16) + 8;
  }
  CHECK(shared == 0);
  CHECK(too_small == 0);
  CHECK(wasteful == 0);
  CHECK(block_size(pool_class(64, 8)) == 64);  // a task_state<void> keeps its exact size
  CHECK(block_size(pool_class(72, 16)) == 80);
  CHECK(pool_class(1009, 16) == unpooled);  // bigger blocks come from operator new
  CHECK(pool_class(1017, 8) == unpooled);
  CHECK(pool_class(1016, 8) < unpooled);
}

TEST_CASE("frame pool: blocks of every pooled size never overlap, whatever the order of frees", "[task][frame_pool]") {
  // Frames (16-byte alignment) and the library's 8-byte-aligned objects (a
  // task state), whose classes interleave in 8-byte steps.
  std::mt19937 random{12345};
  std::vector<pool_block> live;
  std::size_t misaligned = 0;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 5000; ++i) {
      const std::size_t alignment = random() % 2 ? 8 : 16;
      live.push_back(allocate_marked(1 + random() % 1030, static_cast<std::uint8_t>(random()), alignment));
      misaligned += !aligned(live.back());
    }
    std::shuffle(live.begin(), live.end(), random);
    CHECK(free_checked(live, live.size() / 2) == 0);
  }
  CHECK(free_checked(live, live.size()) == 0);
  CHECK(misaligned == 0);
}

#if AIO_FRAME_POOL
namespace {
std::vector<void*> allocate_all(std::size_t n, std::size_t size) {
  std::vector<void*> blocks(n);
  for (auto& b : blocks) b = aio::detail::frame_allocate(size);
  return blocks;
}
void free_all(const std::vector<void*>& blocks, std::size_t size) {
  for (void* b : blocks) aio::detail::frame_deallocate(b, size);
}
/// Frees `blocks` (of `size` bytes) in the order given, then allocates as many
/// again and returns them in allocation order.
std::vector<void*> freed_and_reallocated(const std::vector<void*>& blocks, std::size_t size) {
  free_all(blocks, size);
  return allocate_all(blocks.size(), size);
}
}  // namespace

TEST_CASE("frame pool: after a burst of frees in random order, frames come back in address order",
          "[task][frame_pool]") {
  // What sleep_timers does: 100,000 tasks finish in deadline order, unrelated
  // to where their frames lie; the next 100,000 frames must not be handed out
  // in that scattered order.
  constexpr std::size_t n = 20'000;
  constexpr std::size_t size = 200;
  std::vector<void*> blocks = allocate_all(n, size);
  std::shuffle(blocks.begin(), blocks.end(), std::mt19937{7});
  const std::vector<void*> again = freed_and_reallocated(blocks, size);
  std::size_t ascending = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto step = reinterpret_cast<std::uintptr_t>(again[i]) - reinterpret_cast<std::uintptr_t>(again[i - 1]);
    ascending += step == 208;  // the next block: 200 bytes round up to a 208-byte class
  }
  // Only the few frames kept for reuse at once, and slab boundaries, break the order.
  CHECK(ascending > n * 95 / 100);
  free_all(again, size);
}

TEST_CASE("frame pool: frames freed in the order they were made come back most recent first",
          "[task][frame_pool]") {
  // What spawn_gather does: tasks finish in creation order. Such frees stay on
  // the list (the cheapest way back) however many there are, and the list
  // hands them out again in (descending) address order.
  constexpr std::size_t n = 5'000;
  constexpr std::size_t size = 96;
  std::vector<void*> blocks = allocate_all(n, size);
  std::sort(blocks.begin(), blocks.end());
  const std::vector<void*> again = freed_and_reallocated(blocks, size);
  std::size_t descending = 0;
  for (std::size_t i = 1; i < n; ++i) descending += again[i] < again[i - 1];
  CHECK(descending > n * 95 / 100);
  free_all(again, size);
}
#endif

TEST_CASE("frame pool: frames freed on another thread are reused safely by both", "[task][frame_pool]") {
  constexpr std::size_t n = 3000;
  std::vector<pool_block> made_here;
  for (std::size_t i = 0; i < n; ++i) made_here.push_back(allocate_marked(96, 0x5a));
  std::size_t broken_there = 0;  // Catch2 assertions belong on the test's thread
  std::thread other([&] {
    std::vector<pool_block> mine;
    for (const pool_block& b : made_here) aio::detail::frame_deallocate(b.at, b.size);  // this thread's frames
    for (std::size_t i = 0; i < 2 * n; ++i) mine.push_back(allocate_marked(96, 0xa5));
    broken_there = free_checked(mine, mine.size());
  });
  other.join();
  CHECK(broken_there == 0);
  // This thread goes on with its own pool; the frames the other thread kept
  // stay on its lists.
  std::vector<pool_block> again;
  for (std::size_t i = 0; i < n; ++i) again.push_back(allocate_marked(96, static_cast<std::uint8_t>(i)));
  CHECK(free_checked(again, again.size()) == 0);
}
