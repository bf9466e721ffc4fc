// docs/guide/01-introduction.md: a first aio program. Two waits of 0.2 s run
// on one thread at the same time, so the program takes 0.2 s, not 0.4 s.

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

aio::task<std::string> download(std::string name) {
  co_await aio::sleep(200ms);  // stands in for waiting on the network
  co_return name + " downloaded";
}

aio::task<void> main_task() {
  const auto start = std::chrono::steady_clock::now();
  auto both = aio::gather(download("a.txt"), download("b.txt"));
  auto [a, b] = co_await std::move(both);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("%s, %s in %.1f s\n", a.c_str(), b.c_str(), took.count());
}

int main() { aio::run(main_task()); }
