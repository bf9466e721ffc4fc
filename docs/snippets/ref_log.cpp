// docs/reference/log.md: where aio reports what it cannot throw.
#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace std::chrono_literals;

// [handler]
aio::task<void> fails() {
  throw std::runtime_error("nobody asked");
  co_return;
}

aio::task<void> forgets() {
  auto f = aio::create_task(fails(), "forgotten");
  co_await aio::sleep(1s);
}  // f was never awaited and never asked for its exception

int main() {
  aio::log_handler previous = aio::set_log_handler([](std::string_view message) {
    std::printf("log: %.*s\n", static_cast<int>(message.size()), message.data());
  });
  aio::run(forgets(), aio::virtual_time);
  aio::set_log_handler(previous);  // or an empty handler: back to stderr
}
// [/handler]
