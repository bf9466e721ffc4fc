// docs/reference/files.md: open_file and async_file (aiofiles).
#include <aio/event_loop.hpp>
#include <aio/files.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <string>
#include <system_error>
#include <vector>

// [write_read]
aio::task<void> write_read(std::string path) {
  aio::async_file out = co_await aio::open_file(path, "w");
  std::size_t n = co_await out.write("first line\nsecond line\nthird");
  co_await out.close();
  std::printf("wrote %zu bytes in mode \"%s\", closed() = %d\n", n, out.mode().c_str(), out.closed());

  aio::async_file in = co_await aio::open_file(path);  // mode "r"
  std::string line = co_await in.readline();
  std::printf("readline: %s", line.c_str());
  std::vector<std::string> rest = co_await in.readlines();
  std::printf("readlines: %zu more, last is \"%s\"\n", rest.size(), rest.back().c_str());
  std::int64_t pos = co_await in.seek(6);
  std::string word = co_await in.read(4);
  std::printf("seek(6) = %lld, read(4) = %s, tell() = %lld\n", static_cast<long long>(pos), word.c_str(),
              static_cast<long long>(co_await in.tell()));
  std::string tail = co_await in.read();  // to the end of file
  std::string nothing = co_await in.read();
  std::printf("read(): %zu bytes, then \"%s\" at the end\n", tail.size(), nothing.c_str());
  co_await in.close();
}
// [/write_read]

// [errors]
aio::task<void> errors() {
  try {
    aio::async_file f = co_await aio::open_file("/nonexistent/missing.txt");
  } catch (const std::system_error& e) {
    std::printf("%s (errno %d)\n", e.what(), e.code().value());
  }
}
// [/errors]

int main() {
  char name[] = "/tmp/aio_ref_files_XXXXXX";
  int fd = mkstemp(name);
  if (fd >= 0) ::close(fd);
  aio::run(write_read(name));
  aio::run(errors());
  std::remove(name);
}
