// docs/guide/03-coroutines.md: a task is lazy. Calling a coroutine function
// runs none of its body; co_await runs it inside the caller, create_task runs
// it as a task of its own from the loop's next iteration.

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <string>

// [lazy]
aio::task<std::string> greet(std::string who) {
  std::printf("  greet(%s) runs\n", who.c_str());
  co_return "hello " + who;
}

aio::task<void> caller() {
  aio::task<std::string> t = greet("a");  // builds the frame, runs nothing
  std::printf("  greet(\"a\") called\n");
  std::string r = co_await std::move(t);  // runs it now, inside caller
  std::printf("  got \"%s\"\n", r.c_str());

  {
    aio::task<std::string> never = greet("b");
  }  // destroyed unawaited: its body never ran

  aio::future<std::string> f = aio::create_task(greet("c"));
  std::printf("  create_task(greet(\"c\")) returned\n");  // not started yet
  std::string rc = co_await f;  // caller suspends; the loop starts the task
  std::printf("  got \"%s\"\n", rc.c_str());
}
// [/lazy]

int main() {
  aio::run(caller());
}
