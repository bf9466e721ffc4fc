// docs/pitfalls-cpp.md: coroutine lambdas. A lambda's captures live in the
// lambda object, not in the coroutine frame; the frame keeps only `this` of
// the lambda. The correct forms keep everything the coroutine needs in its
// parameters, which the frame copies.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// [bad]
// ❌ Compiled here, never called: the frame would read `name` through a
// pointer to the lambda object, which dies at the end of the full expression
// that called it — long before the sleep is over.
auto make_greeter_wrong(std::string name) {
  return [name]() -> aio::task<void> {
    co_await aio::sleep(1s);
    std::printf("hello %s\n", name.c_str());
  };
}
// [/bad]

// [free_function]
// ✅ A free coroutine function: its by-value parameters live in the frame.
aio::task<void> greet(std::string name) {
  co_await aio::sleep(1s);
  std::printf("hello %s (free function)\n", name.c_str());
}
// [/free_function]

// [capture_free]
// ✅ A capture-free lambda taking its data as parameters is just as safe.
auto greet_lambda = [](std::string name) -> aio::task<void> {
  co_await aio::sleep(1s);
  std::printf("hello %s (capture-free lambda)\n", name.c_str());
};
// [/capture_free]

// [factory]
// ✅ Where a callable with state is needed (a callback, a std::function), let
// an ordinary lambda capture, and pass the captures on by value to the
// coroutine it calls: the lambda only builds the task.
std::function<aio::task<void>()> make_greeter(std::string name) {
  return [name] { return greet(name); };
}
// [/factory]

aio::task<void> async_main() {
  std::vector<aio::future<void>> running;
  running.push_back(aio::create_task(greet("Ada")));
  running.push_back(aio::create_task(greet_lambda("Grace")));
  running.push_back(aio::create_task(make_greeter("Linus")()));  // the std::function dies here: fine
  co_await aio::gather(std::move(running));
}

int main() {
  aio::run(async_main(), aio::virtual_time);
}
