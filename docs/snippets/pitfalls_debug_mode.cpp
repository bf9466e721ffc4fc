// docs/guide/13-pitfalls.md and docs/pitfalls-cpp.md: what debug mode
// reports for two of the guide's pitfalls — a step that blocks the loop, and a
// task that is never awaited — with the correct forms beside them.

#include <aio/event_loop.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

std::string read_sensor() {
  std::this_thread::sleep_for(300ms);  // a blocking call: a C library, a disk
  return "42";
}

// [blocking]
aio::task<void> blocks_the_loop() {
  std::string value = read_sensor();  // ❌ runs on the loop's thread
  std::printf("blocking:  read %s\n", value.c_str());
  co_return;
}

aio::task<void> uses_a_thread() {
  std::string value = co_await aio::to_thread(read_sensor);  // ✅ the loop runs on meanwhile
  std::printf("to_thread: read %s\n", value.c_str());
}
// [/blocking]

// [never_awaited]
aio::task<std::string> fetch_data() { co_return "data"; }

aio::task<void> forgets_to_await() {
  auto pending = fetch_data();  // ❌ a task, not the data; its body never runs
  std::printf("forgot:    made a task, dropped it\n");
  co_return;
}  // `pending` is destroyed here, never awaited

aio::task<void> awaits() {
  std::string data = co_await fetch_data();  // ✅
  std::printf("awaited:   %s\n", data.c_str());
}
// [/never_awaited]

// [main]
aio::task<void> async_main() {
  co_await blocks_the_loop();
  co_await uses_a_thread();
  co_await forgets_to_await();
  co_await awaits();
}

int main() {
  // Reports go to stderr by default; print them here, marked, to show them
  // (with this file's directory left out of the source locations they name).
  aio::set_log_handler([](std::string_view message) {
    std::string text(message);
    const std::string_view file = __FILE__;
    const std::string dir(file.substr(0, file.rfind('/') + 1));
    for (auto at = text.find(dir); at != std::string::npos; at = text.find(dir)) text.erase(at, dir.size());
    std::printf("  [aio log] %s\n", text.c_str());
  });
  aio::event_loop loop;
  loop.set_debug(true);  // or run the program with AIO_DEBUG=1
  loop.run_until_complete(async_main());
}
// [/main]
