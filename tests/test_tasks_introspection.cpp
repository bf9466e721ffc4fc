// Tests for the introspection half of aio/tasks.hpp: current_task, all_tasks,
// dump_tasks and the async stack traces (task_info / future::get_stack).
#include <aio/catch2.hpp>

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The line of each co_await below is what the stack traces must show.
constexpr unsigned line_get = __LINE__ + 2;
aio::task<int> innermost_get(aio::queue<int>& q) {
  int v = co_await q.get();
  co_return v;
}
constexpr unsigned line_middle = __LINE__ + 2;
aio::task<int> middle(aio::queue<int>& q) {
  int v = co_await innermost_get(q);
  co_return v + 1;
}
constexpr unsigned line_outer = __LINE__ + 2;
aio::task<int> consumer(aio::queue<int>* q) {
  int v = co_await middle(*q);
  co_return v;
}

bool ends_with(const char* s, const char* suffix) {
  const std::size_t n = std::strlen(s), m = std::strlen(suffix);
  return n >= m && std::strcmp(s + n - m, suffix) == 0;
}

aio::task<std::string> name_from_inside() {
  aio::task_info me = co_await aio::current_task();
  co_return me.get_name();
}

aio::task<std::string> gather_child_sees_its_awaiter() {
  aio::task_info me = co_await aio::current_task();
  co_return me.get_name();
}

aio::task<std::tuple<std::string, std::string>> gather_children_names() {
  co_return co_await aio::gather(gather_child_sees_its_awaiter(), gather_child_sees_its_awaiter());
}

aio::task<void> sleeper(aio::duration d) { co_await aio::sleep(d); }

}  // namespace

AIO_TEST_CASE("current_task gives the task the coroutine runs in, by name", "[tasks][introspection]") {
  aio::future<std::string> named = aio::create_task(name_from_inside(), "fetcher");
  aio::future<std::string> unnamed = aio::create_task(name_from_inside());
  std::string a = co_await named;
  std::string b = co_await unnamed;
  CHECK(a == "fetcher");
  CHECK(b.rfind("Task-", 0) == 0);
  CHECK(b == unnamed.get_name());
}

AIO_TEST_CASE("current_task is the same task from a nested coroutine, and can cancel it", "[tasks][introspection]") {
  aio::task_info me = co_await aio::current_task();
  REQUIRE(me);
  CHECK_FALSE(me.done());
  CHECK(me.waiting_on() == nullptr);  // running: not suspended anywhere
  std::string nested = co_await name_from_inside();
  CHECK(nested == me.get_name());
  me.set_name("renamed");
  CHECK(me.get_name() == "renamed");
}

AIO_TEST_CASE("inside a gather child, current_task is the task awaiting the gather", "[tasks][introspection]") {
  aio::future<std::tuple<std::string, std::string>> f = aio::create_task(gather_children_names(), "parent");
  auto [a, b] = co_await f;
  CHECK(a == "parent");
  CHECK(b == "parent");
}

AIO_TEST_CASE("all_tasks lists the pending tasks in creation order and drops finished ones", "[tasks][introspection]") {
  aio::future<void> first = aio::create_task(sleeper(1s), "first");
  aio::future<void> second = aio::create_task(sleeper(2s), "second");
  std::vector<aio::task_info> tasks = aio::all_tasks();
  std::vector<std::string> names;
  for (const auto& t : tasks) names.push_back(t.get_name());
  // The test's own task comes first (aio::testing::run creates it).
  REQUIRE(names.size() == 3);
  INFO(names[0] << " | " << names[1] << " | " << names[2]);
  CHECK(names[1] == "first");
  CHECK(names[2] == "second");
  co_await first;
  tasks = aio::all_tasks();
  CHECK(tasks.size() == 2);
  CHECK(std::none_of(tasks.begin(), tasks.end(), [](const aio::task_info& t) { return t.get_name() == "first"; }));
  CHECK(tasks.back() == aio::all_tasks().back());
  tasks.back().cancel();
  co_await aio::gather_settled(second);
  CHECK(second.cancelled());
}

AIO_TEST_CASE("get_stack walks the chain of awaits, outermost first, with the line of each", "[tasks][introspection]") {
  aio::queue<int> q;
  aio::future<int> f = aio::create_task(consumer(&q), "consumer");
  co_await aio::yield();  // let it run into the empty queue

  std::vector<aio::stack_frame> stack = f.get_stack();
  REQUIRE(stack.size() == 3);
  CHECK(stack[0].function == "consumer");
  CHECK(stack[1].function == "middle");
  CHECK(stack[2].function == "innermost_get");
  CHECK(stack[0].line == line_outer);
  CHECK(stack[1].line == line_middle);
  CHECK(stack[2].line == line_get);
  CHECK(ends_with(stack[2].file, "test_tasks_introspection.cpp"));

  std::vector<aio::task_info> tasks = aio::all_tasks();
  REQUIRE(tasks.size() == 2);
  REQUIRE(tasks[1].waiting_on() != nullptr);
  CHECK(std::string(tasks[1].waiting_on()).find("aio::queue::get") == 0);

  q.put_nowait(41);
  int v = co_await f;
  CHECK(v == 42);
  CHECK(f.get_stack().empty());  // done: no stack
}

AIO_TEST_CASE("dump_tasks prints every pending task with its async stack trace", "[tasks][introspection]") {
  aio::queue<int> q;
  aio::future<int> c = aio::create_task(consumer(&q), "consumer");
  aio::future<void> s = aio::create_task(sleeper(5s), "sleeper");
  co_await aio::yield();

  std::ostringstream out;
  aio::dump_tasks(out);
  const std::string text = out.str();
  INFO(text);
  CHECK(text.find("aio: 3 pending tasks") == 0);
  CHECK(text.find("running or ready to run") != std::string::npos);  // the test's own task
  CHECK(text.find("Task 'consumer' waiting on aio::queue::get") != std::string::npos);
  CHECK(text.find("  consumer at ") != std::string::npos);
  CHECK(text.find("  innermost_get at ") != std::string::npos);
  CHECK(text.find(":" + std::to_string(line_get) + "\n") != std::string::npos);
  CHECK(text.find("Task 'sleeper' waiting on aio::sleep") != std::string::npos);
  // Outermost first, as asyncio prints a stack (most recent call last).
  CHECK(text.find("  consumer at ") < text.find("  middle at "));
  CHECK(text.find("  middle at ") < text.find("  innermost_get at "));

  c.cancel();
  s.cancel();
  co_await aio::gather_settled(c, s);
  std::ostringstream after;
  aio::dump_tasks(after);
  CHECK(after.str().find("aio: 1 pending task\n") == 0);
}

TEST_CASE("all_tasks and dump_tasks without a running loop throw, with a loop argument they work", "[tasks][introspection]") {
  CHECK_THROWS_AS(aio::all_tasks(), aio::invalid_state_error);
  std::ostringstream out;
  CHECK_THROWS_AS(aio::dump_tasks(out), aio::invalid_state_error);
  aio::event_loop loop{aio::virtual_time};
  CHECK(aio::all_tasks(loop).empty());
  aio::dump_tasks(out, loop);
  CHECK(out.str() == "aio: 0 pending tasks\n");
}

TEST_CASE("a task_info outlives its task and reports it done", "[tasks][introspection]") {
  aio::task_info kept;
  CHECK_FALSE(kept);
  CHECK(kept.done());
  CHECK(kept.get_stack().empty());
  aio::event_loop loop{aio::virtual_time};
  aio::future<void> f = loop.create_task(sleeper(1s), "short");
  kept = aio::all_tasks(loop).front();
  loop.run_until_complete(f);
  f = {};
  CHECK(kept.done());
  CHECK_FALSE(kept.cancelled());
  std::ostringstream out;
  kept.print_stack(out);
  CHECK(out.str() == "Task 'short' done\n");
}

namespace {
constexpr unsigned line_spawn = __LINE__ + 2;
aio::task<std::string> spawns_and_prints() {
  aio::future<void> s = aio::create_task(sleeper(1s), "napper");
  co_await aio::yield();
  std::ostringstream out;
  s.print_stack(out);
  s.cancel();
  co_await aio::gather_settled(s);
  co_return out.str();
}
}  // namespace

TEST_CASE("in debug mode a task remembers where it was created, and print_stack says so", "[tasks][introspection]") {
  aio::event_loop loop{aio::virtual_time};
  loop.set_debug(true);
  const std::string text = loop.run_until_complete(spawns_and_prints());
  INFO(text);
  CHECK(text.find("Task 'napper' (created at ") == 0);
  CHECK(text.find("test_tasks_introspection.cpp:" + std::to_string(line_spawn) + ")") != std::string::npos);
  loop.set_debug(false);
  const std::string quiet = loop.run_until_complete(spawns_and_prints());
  CHECK(quiet.find("Task 'napper' waiting on aio::sleep") == 0);
}

namespace {
struct inventory {
  aio::event restocked;
  aio::task<int> wait_for_stock(int wanted) {
    co_await restocked.wait();
    co_return wanted;
  }
};

template <class T>
aio::task<T> forwarded(inventory* inv, T wanted) {
  T got = co_await inv->wait_for_stock(wanted);
  co_return got;
}

aio::task<std::vector<std::string>> names_of_member_template_and_lambda() {
  inventory inv;
  aio::future<int> f = aio::create_task(forwarded<int>(&inv, 3));
  auto lambda = [](inventory* i) -> aio::task<void> { co_await i->restocked.wait(); };
  aio::future<void> g = aio::create_task(lambda(&inv));
  co_await aio::yield();
  std::vector<std::string> names;
  for (const auto& frame : f.get_stack()) names.push_back(frame.function);
  for (const auto& frame : g.get_stack()) names.push_back(frame.function);
  inv.restocked.set();
  co_await aio::gather(f, g);
  co_return names;
}
}  // namespace

TEST_CASE("stack frames name member functions, templates and lambdas by their bare names", "[tasks][introspection]") {
  const std::vector<std::string> names = aio::run(names_of_member_template_and_lambda(), aio::virtual_time);
  REQUIRE(names.size() == 3);
  INFO(names[0] << " | " << names[1] << " | " << names[2]);
  CHECK(names[0] == "forwarded");  // g++ would say "aio::task<T> forwarded(inventory*, T) [with T = int]"
  CHECK(names[1] == "wait_for_stock");
  CHECK(names[2] == "operator()");  // a lambda's call operator, with both compilers
}
