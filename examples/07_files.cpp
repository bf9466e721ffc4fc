// 07 — File I/O operations (asyncio guide, "Practical Examples" 3; aiofiles).
//
// Writes three files, then reads them back concurrently with gather. Each
// open, read, write and close runs on the loop's thread pool, as aiofiles
// does: regular files are always "ready" to epoll, so a thread is the only way
// not to block the loop.
//
// Python's `async with aiofiles.open(...) as f:` closes the file at the end of
// the block; C++ has no async destructor, so close() is awaited explicitly
// (an async_file destroyed unclosed is still closed, on the pool, but then a
// close error has nowhere to go).
//
// The files live in a fresh directory under the system's temp directory,
// removed at the end.

#include <aio/event_loop.hpp>
#include <aio/files.hpp>
#include <aio/tasks.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

// [files]
aio::task<std::string> read_file_async(std::string filename) {
  aio::async_file f = co_await aio::open_file(filename, "r");
  std::string content = co_await f.read();
  co_await f.close();
  co_return content;
}

aio::task<void> write_file_async(std::string filename, std::string content) {
  aio::async_file f = co_await aio::open_file(filename, "w");
  co_await f.write(std::move(content));
  co_await f.close();
}

aio::task<std::vector<std::string>> process_files(std::vector<std::string> filenames) {
  std::vector<aio::task<std::string>> tasks;
  for (const auto& f : filenames) tasks.push_back(read_file_async(f));
  co_return co_await aio::gather(std::move(tasks));
}
// [/files]

aio::task<void> async_main(std::string dir) {
  std::vector<std::string> files;
  for (const char* name : {"file1.txt", "file2.txt", "file3.txt"}) files.push_back(dir + "/" + name);

  // The guide assumes the files exist; write them first (concurrently too).
  std::vector<aio::task<void>> writes;
  for (std::size_t i = 0; i < files.size(); ++i)
    writes.push_back(write_file_async(files[i], "Contents of file" + std::to_string(i + 1)));
  co_await aio::gather(std::move(writes));

  const std::vector<std::string> contents = co_await process_files(files);
  for (std::size_t i = 0; i < files.size(); ++i)
    std::printf("%s: %s\n", fs::path(files[i]).filename().c_str(), contents[i].c_str());
}

int main() {
  const fs::path dir = fs::temp_directory_path() / ("aio-example-07-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int status = 0;
  try {
    aio::run(async_main(dir.string()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    status = 1;
  }
  fs::remove_all(dir);
  return status;
}
