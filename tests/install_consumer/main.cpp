#include <aio/aio.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

aio::task<int> one(int i) {
  co_await aio::sleep(1s);
  co_return i;
}

aio::task<void> main_task() {
  auto start = aio::get_running_loop().time();
  auto [a, b, c] = co_await aio::gather(one(1), one(2), one(3));
  auto took = std::chrono::duration_cast<std::chrono::seconds>(aio::get_running_loop().time() - start);
  std::printf("consumer: %d results in %lld s\n", (a + b + c) / 2, static_cast<long long>(took.count()));
}

int main() { aio::run(main_task(), aio::virtual_time); }
