// Tests for aio/files.hpp: open_file and async_file (aiofiles). The work runs
// on the thread pool, so virtual time flows in real time while a job is in
// flight (the loop never jumps over pending thread work); every wait here is
// for a job, or a few milliseconds to let a job reach its blocking call.
#include <aio/files.hpp>

#include "support/catch.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Never co_await inside CHECK / REQUIRE: Catch2 2.x's CHECK puts its operand in
// __builtin_constant_p too (CATCH_INTERNAL_IGNORE_BUT_WARN), and g++ 12 then
// evaluates a co_await in it: the operation runs twice. Await first, then check.
#define CHECK_AWAIT(awaitable, expected)             \
  do {                                               \
    const auto check_await_value = co_await awaitable; \
    CHECK(check_await_value == (expected));          \
  } while (false)

// --- result types ------------------------------------------------------------

namespace {
template <class T> T make();  // for decltype only
}  // namespace

static_assert(std::is_same_v<decltype(aio::open_file("p")), aio::task<aio::async_file>>);
static_assert(std::is_same_v<decltype(aio::open_file("p", "rb")), aio::task<aio::async_file>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().read()), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().read(10)), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().readline()), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().readlines()), aio::task<std::vector<std::string>>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().write("x")), aio::task<std::size_t>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().flush()), aio::task<void>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().close()), aio::task<void>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().seek(0, SEEK_END)), aio::task<std::int64_t>>);
static_assert(std::is_same_v<decltype(make<aio::async_file&>().tell()), aio::task<std::int64_t>>);
static_assert(std::is_same_v<decltype(make<const aio::async_file&>().closed()), bool>);
static_assert(std::is_same_v<decltype(make<const aio::async_file&>().name()), const std::string&>);
static_assert(!std::is_copy_constructible_v<aio::async_file> && !std::is_copy_assignable_v<aio::async_file>);
static_assert(std::is_nothrow_move_constructible_v<aio::async_file> &&
              std::is_nothrow_move_assignable_v<aio::async_file>);

namespace {

/// A fresh directory under the system's temp dir, removed with its contents.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    path = fs::temp_directory_path() / ("aio-test-files-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spew(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}
std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// Closes a descriptor when the test leaves its scope, even by an exception:
/// the FIFO tests' writer, whose closing also ends a reader blocked on a thread.
struct fd_guard {
  int fd;
  explicit fd_guard(int f) : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

aio::task<void> write_file(std::string path, std::string content) {
  aio::async_file f = co_await aio::open_file(path, "w");
  co_await f.write(std::move(content));
  co_await f.close();
}
aio::task<std::string> read_file(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "r");
  std::string content = co_await f.read();
  co_await f.close();
  co_return content;
}

// --- basics --------------------------------------------------------------------

aio::task<void> write_read_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "w");
  CHECK(f.name() == path);
  CHECK(f.mode() == "w");
  CHECK(!f.closed());
  const std::size_t written = co_await f.write("hello\n");
  CHECK(written == 6);
  CHECK_AWAIT(f.write("world\n"), 6);
  CHECK_AWAIT(f.write(""), 0);
  co_await f.close();
  CHECK(f.closed());
  CHECK(slurp(path) == "hello\nworld\n");

  aio::async_file g = co_await aio::open_file(path);  // "r" by default
  CHECK_AWAIT(g.read(), "hello\nworld\n");
  CHECK_AWAIT(g.read(), "");  // end of file
  CHECK_AWAIT(g.tell(), 12);
  co_await g.close();
  co_await g.close();  // closing twice does nothing, as in Python
}
TEST_CASE("write then read back", "[files]") {
  temp_dir dir;
  aio::test::run_test(write_read_main(dir.file("a.txt")));
}

aio::task<void> binary_main(std::string path) {
  std::string data;
  for (int i = 0; i < 256 * 300; ++i) data.push_back(static_cast<char>(i % 256));  // NULs, '\n's, high bytes
  aio::async_file f = co_await aio::open_file(path, "wb");
  co_await f.write(data);
  co_await f.close();
  aio::async_file g = co_await aio::open_file(path, "rb");
  CHECK_AWAIT(g.read(), data);
  co_await g.close();
}
TEST_CASE("binary data round-trips byte for byte", "[files]") {
  temp_dir dir;
  aio::test::run_test(binary_main(dir.file("b.bin")));
}

aio::task<void> chunks_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "r");
  CHECK_AWAIT(f.read(3), "abc");
  CHECK_AWAIT(f.read(3), "def");
  CHECK_AWAIT(f.read(0), "");
  CHECK_AWAIT(f.tell(), 6);
  CHECK_AWAIT(f.read(10), "ghij");  // fewer only at end of file
  CHECK_AWAIT(f.read(1), "");
  CHECK_AWAIT(f.seek(-4, SEEK_END), 6);
  CHECK_AWAIT(f.read(2), "gh");
  CHECK_AWAIT(f.seek(-5, SEEK_CUR), 3);
  CHECK_AWAIT(f.read(2), "de");
  CHECK_AWAIT(f.seek(0), 0);
  CHECK_AWAIT(f.read(), "abcdefghij");
  co_await f.close();
}
TEST_CASE("read(n) returns chunks of n bytes (fewer at end of file) and seek and tell move", "[files]") {
  temp_dir dir;
  spew(dir.file("c.txt"), "abcdefghij");
  aio::test::run_test(chunks_main(dir.file("c.txt")));
}

aio::task<void> lines_main(std::string path, std::string long_line) {
  aio::async_file f = co_await aio::open_file(path, "r");
  CHECK_AWAIT(f.readline(), "one\n");
  CHECK_AWAIT(f.readline(), long_line + "\n");
  const std::vector<std::string> rest = co_await f.readlines();
  CHECK(rest == std::vector<std::string>{"two\n", "\n", "three"});
  CHECK_AWAIT(f.readline(), "");
  const std::vector<std::string> none = co_await f.readlines();
  CHECK(none.empty());
  co_await f.close();
}
TEST_CASE("readline keeps the newline and readlines returns the rest (empty at end of file)", "[files]") {
  temp_dir dir;
  const std::string long_line(200'000, 'x');  // longer than any buffer
  spew(dir.file("l.txt"), "one\n" + long_line + "\ntwo\n\nthree");
  aio::test::run_test(lines_main(dir.file("l.txt"), long_line));
}

aio::task<void> append_main(std::string path) {
  co_await write_file(path, "a\n");
  aio::async_file f = co_await aio::open_file(path, "a");
  CHECK_AWAIT(f.tell(), 2);  // Python starts an appending file at its end
  co_await f.write("b\n");
  co_await f.close();
  CHECK(slurp(path) == "a\nb\n");

  aio::async_file g = co_await aio::open_file(path, "a+");
  co_await g.seek(0);
  CHECK_AWAIT(g.read(2), "a\n");
  co_await g.write("c\n");  // appending mode: writes go to the end wherever we read
  co_await g.seek(0);
  CHECK_AWAIT(g.read(), "a\nb\nc\n");
  co_await g.close();
}
TEST_CASE("append mode adds at the end", "[files]") {
  temp_dir dir;
  aio::test::run_test(append_main(dir.file("app.txt")));
}

aio::task<void> update_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "r+");
  CHECK_AWAIT(f.read(3), "012");
  co_await f.write("X");  // after a read, at the logical position (C needs a seek in between: done inside)
  CHECK_AWAIT(f.read(2), "45");
  co_await f.flush();
  CHECK(slurp(path) == "012X456789");
  co_await f.close();

  aio::async_file g = co_await aio::open_file(path, "w+");  // truncates
  co_await g.write("abc");
  co_await g.seek(0);
  CHECK_AWAIT(g.read(), "abc");
  co_await g.close();
}
TEST_CASE("r+ and w+ switch between reading and writing at the logical position", "[files]") {
  temp_dir dir;
  spew(dir.file("u.txt"), "0123456789");
  aio::test::run_test(update_main(dir.file("u.txt")));
}

// --- errors ----------------------------------------------------------------------

aio::task<void> missing_main(std::string dir) {
  const std::string path = dir + "/missing.txt";
  try {
    co_await aio::open_file(path, "r");
    FAIL("opening a missing file succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENOENT);
    CHECK(e.code().category() == std::generic_category());
    CHECK(std::string(e.what()) == "aio: cannot open '" + path + "' for reading: No such file or directory");
  }
  try {
    co_await aio::open_file(dir + "/no/such/dir/f.txt", "w");
    FAIL("opening in a missing directory succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENOENT);
    CHECK(std::string(e.what()).find("for writing") != std::string::npos);
  }
  co_await write_file(dir + "/exists.txt", "x");
  try {
    co_await aio::open_file(dir + "/exists.txt", "x");
    FAIL("exclusive creation of an existing file succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EEXIST);
    CHECK(std::string(e.what()).find("for exclusive creation") != std::string::npos);
  }
  try {
    co_await aio::open_file(dir, "r");
    FAIL("opening a directory succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EISDIR);
  }
}
TEST_CASE("open errors are system_error with errno naming the path and the purpose", "[files]") {
  temp_dir dir;
  aio::test::run_test(missing_main(dir.path.string()));
}

aio::task<void> bad_modes_main(std::string path) {
  for (const char* mode : {"", "q", "rw", "rr", "r++", "rbt", "bb", "b", "+", "wa", "rU"}) {
    INFO("mode '" << mode << "'");
    try {
      co_await aio::open_file(path, mode);
      FAIL("an invalid mode was accepted");
    } catch (const aio::value_error& e) {
      CHECK(std::string(e.what()).find(std::string("invalid mode '") + mode + "'") != std::string::npos);
    }
  }
  CHECK(!fs::exists(path));  // nothing was opened or created
  for (const char* mode : {"w", "wb", "bw", "w+", "+w", "wt", "w+b", "a", "ab+", "r", "rb", "r+", "rt", "x"}) {
    INFO("mode '" << mode << "'");
    if (mode[0] == 'x' || mode[1] == 'x') fs::remove(path);
    aio::async_file f = co_await aio::open_file(path, mode);
    CHECK(f.mode() == mode);
    co_await f.close();
  }
}
TEST_CASE("an invalid mode is a value_error raised before anything runs", "[files]") {
  temp_dir dir;
  aio::test::run_test(bad_modes_main(dir.file("m.txt")));
}

aio::task<void> worker_errors_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "w");
  try {
    co_await f.read();
    FAIL("reading a write-only file succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
    CHECK(std::string(e.what()) == "aio: cannot read '" + path + "': Bad file descriptor");
  }
  try {
    co_await f.readline();
    FAIL("readline on a write-only file succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
  }
  co_await f.write("still usable\n");  // the failure did not break the file or its queue
  co_await f.close();
  CHECK(slurp(path) == "still usable\n");

  aio::async_file g = co_await aio::open_file(path, "r");
  try {
    co_await g.write("x");
    co_await g.flush();
    FAIL("writing a read-only file succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
    CHECK(std::string(e.what()).find("cannot write '" + path + "'") != std::string::npos);
  }
  try {
    co_await g.seek(0, 7);
    FAIL("an invalid whence was accepted");
  } catch (const aio::value_error&) {
  }
  try {
    co_await g.seek(-1);
    FAIL("seeking before the start succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EINVAL);
  }
  CHECK_AWAIT(g.read(), "still usable\n");
  co_await g.close();
}
TEST_CASE("an exception from the worker thread reaches the awaiter", "[files]") {
  temp_dir dir;
  aio::test::run_test(worker_errors_main(dir.file("w.txt")));
}

aio::task<void> closed_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "w");
  co_await f.close();
  CHECK(f.closed());
  CHECK_THROWS_AS(co_await f.write("x"), aio::value_error);
  CHECK_THROWS_AS(co_await f.read(), aio::value_error);
  CHECK_THROWS_AS(co_await f.tell(), aio::value_error);
  CHECK_THROWS_WITH(co_await f.flush(), "aio: I/O operation on closed file '" + path + "'");

  aio::async_file none;
  CHECK(none.closed());
  CHECK(none.name().empty());
  CHECK_THROWS_AS(co_await none.readline(), aio::value_error);
  co_await none.close();  // nothing to close

  aio::async_file g = co_await aio::open_file(path, "r");
  aio::async_file h = std::move(g);
  CHECK(g.closed());  // NOLINT(bugprone-use-after-move): moved-from reads as closed
  CHECK(!h.closed());
  CHECK(h.name() == path);
  co_await h.close();
}
TEST_CASE("operations on a closed or moved-from or default-constructed file throw value_error", "[files]") {
  temp_dir dir;
  aio::test::run_test(closed_main(dir.file("c.txt")));
}

// --- concurrency and order -------------------------------------------------------

aio::task<void> thousand_main(std::string dir) {
  constexpr int n = 1000;
  std::vector<aio::task<void>> writes;
  for (int i = 0; i < n; ++i)
    writes.push_back(write_file(dir + "/f" + std::to_string(i), "content of file " + std::to_string(i) + "\n"));
  co_await aio::gather(std::move(writes));

  std::vector<aio::task<std::string>> reads;
  for (int i = 0; i < n; ++i) reads.push_back(read_file(dir + "/f" + std::to_string(i)));
  const std::vector<std::string> contents = co_await aio::gather(std::move(reads));
  REQUIRE(contents.size() == n);
  int wrong = 0;
  for (int i = 0; i < n; ++i)
    if (contents[static_cast<std::size_t>(i)] != "content of file " + std::to_string(i) + "\n") ++wrong;
  CHECK(wrong == 0);
}
TEST_CASE("1000 files written and read back concurrently with gather", "[files]") {
  temp_dir dir;
  const std::size_t before = open_descriptors();
  aio::test::run_test(thousand_main(dir.path.string()));
  CHECK(open_descriptors() == before);
}

aio::task<void> write_order_main(std::string path) {
  constexpr int n = 300;
  aio::async_file f = co_await aio::open_file(path, "w");
  std::vector<aio::future<std::size_t>> writes;
  std::string expected;
  for (int i = 0; i < n; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    expected += line;
    writes.push_back(aio::create_task(f.write(std::move(line))));
  }
  co_await aio::yield();  // every write task has started: each has its place in the file's order
  int cancelled = 0;
  for (int i = 1; i < n; i += 2) cancelled += writes[static_cast<std::size_t>(i)].cancel() ? 1 : 0;
  CHECK(cancelled == n / 2);  // none had finished: the first job's result cannot be back yet
  co_await f.close();          // after every write, cancelled or not
  CHECK(slurp(path) == expected);
  for (int i = 0; i < n; ++i) {
    auto& w = writes[static_cast<std::size_t>(i)];
    REQUIRE(w.done());
    if (i % 2 == 1) CHECK(w.cancelled());
    else CHECK(w.result() == ("line " + std::to_string(i) + "\n").size());
  }
}
TEST_CASE("writes issued without awaiting land in call order (cancelled ones too)", "[files]") {
  temp_dir dir;
  aio::test::run_test(write_order_main(dir.file("order.txt")));
}

aio::task<void> read_order_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "r");
  std::vector<aio::task<std::string>> lines;
  for (int i = 0; i < 50; ++i) lines.push_back(f.readline());
  const std::vector<std::string> got = co_await aio::gather(std::move(lines));
  for (int i = 0; i < 50; ++i) CHECK(got[static_cast<std::size_t>(i)] == std::to_string(i) + "\n");
  co_await f.close();
}
TEST_CASE("concurrent reads of one file are served in the order they started", "[files]") {
  temp_dir dir;
  std::string content;
  for (int i = 0; i < 50; ++i) content += std::to_string(i) + "\n";
  spew(dir.file("r.txt"), content);
  aio::test::run_test(read_order_main(dir.file("r.txt")));
}

// --- cancellation -----------------------------------------------------------------

aio::task<void> cancel_fifo_main(std::string path) {
  // O_RDWR on a FIFO does not block on Linux, and keeps a writer present, so
  // the reader's open returns at once and its reads block until we write.
  fd_guard writer{::open(path.c_str(), O_RDWR | O_CLOEXEC)};
  REQUIRE(writer.fd >= 0);
  aio::async_file f = co_await aio::open_file(path, "r");

  aio::future<std::string> blocked = aio::create_task(f.readline());
  co_await aio::sleep(20ms);  // the job is now blocked in the read on its thread
  CHECK(!blocked.done());
  blocked.cancel();
  try {
    co_await blocked;  // control comes back at once, while the job is still blocked
    FAIL("the cancelled readline returned");
  } catch (const aio::cancelled_error&) {
  }
  CHECK(blocked.cancelled());

  // A read queued behind the blocked one and cancelled before its turn reads nothing.
  aio::future<std::string> queued = aio::create_task(f.read(3));
  co_await aio::yield();
  queued.cancel();
  try {
    co_await queued;
    FAIL("the cancelled read returned");
  } catch (const aio::cancelled_error&) {
  }

  const std::string fed = "hello\nworld\nend";
  REQUIRE(::write(writer.fd, fed.data(), fed.size()) == static_cast<ssize_t>(fed.size()));
  // The cancelled readline's job finishes now; its line is kept and served first.
  CHECK_AWAIT(f.readline(), "hello\n");
  CHECK_AWAIT(f.read(3), "wor");
  CHECK_AWAIT(f.readline(), "ld\n");
  writer.reset();  // the last writer is gone: end of file after "end"
  CHECK_AWAIT(f.read(), "end");
  CHECK_AWAIT(f.readline(), "");
  co_await f.close();
}
TEST_CASE("a read cancelled in flight (a FIFO) keeps its data for the next read in order", "[files]") {
  temp_dir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  aio::test::run_test(cancel_fifo_main(fifo));
}

/// Writes to the FIFO, then blocks the loop's thread on purpose: the reader's
/// job finishes meanwhile, so its result and the main task's overdue timer
/// come up in the same loop iteration, the result first.
aio::task<void> feed_then_block(int fd, std::string data) {
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  std::this_thread::sleep_for(50ms);
  co_return;
}
aio::task<void> cancel_after_arrival_main(std::string path) {
  fd_guard writer{::open(path.c_str(), O_RDWR | O_CLOEXEC)};
  REQUIRE(writer.fd >= 0);
  aio::async_file f = co_await aio::open_file(path, "r");
  aio::future<std::string> reader = aio::create_task(f.readline());
  co_await aio::sleep(10ms);  // the job is blocked in the read
  auto feeder = aio::create_task(feed_then_block(writer.fd, "hello\nworld\n"));
  co_await aio::sleep(1ms);
  // The line has arrived and the reader is scheduled to take it, but has not
  // run yet: the cancel is delivered when it resumes, so the line is already
  // out of the job and must go back to the pushback buffer.
  CHECK(!reader.done());
  CHECK(reader.cancel());
  try {
    co_await reader;
    FAIL("the cancelled readline returned");
  } catch (const aio::cancelled_error&) {
  }
  co_await feeder;
  writer.reset();  // end of file after the two lines (and no hang if one was lost)
  CHECK_AWAIT(f.readline(), "hello\n");
  CHECK_AWAIT(f.readline(), "world\n");
  CHECK_AWAIT(f.readline(), "");
  co_await f.close();
}
TEST_CASE("a read cancelled after its data arrived but before it resumed keeps the data", "[files]") {
  temp_dir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  aio::run(cancel_after_arrival_main(fifo));  // steady clock: the timer must be overdue after the block
}

aio::task<void> cancel_large_main(std::string path, std::string content) {
  aio::async_file f = co_await aio::open_file(path, "r");
  CHECK_AWAIT(f.read(10), content.substr(0, 10));
  for (int round = 1; round <= 3; ++round) {
    // Each asks for more than the last one kept, so each has a job in flight.
    aio::future<std::string> part = aio::create_task(f.read(round << 20));
    co_await aio::yield();  // started: its job is submitted
    CHECK(part.cancel());
    try {
      co_await part;
      FAIL("the cancelled read returned");
    } catch (const aio::cancelled_error&) {
    }
  }
  // The cancelled reads consumed nothing: position, then data, are as before.
  CHECK_AWAIT(f.tell(), 10);
  CHECK_AWAIT(f.read(5), content.substr(10, 5));
  CHECK_AWAIT(f.read(), content.substr(15));
  co_await f.close();
}
TEST_CASE("reads of a large file cancelled in flight lose nothing", "[files]") {
  temp_dir dir;
  std::string content;
  std::mt19937 rng{42};
  for (int i = 0; i < (4 << 20); ++i) content.push_back(static_cast<char>('a' + rng() % 26));
  spew(dir.file("big.txt"), content);
  aio::test::run_test(cancel_large_main(dir.file("big.txt"), content));
}

aio::task<void> cancel_then_write_main(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "r+");
  aio::future<std::string> part = aio::create_task(f.read(4));
  co_await aio::yield();
  part.cancel();
  try {
    co_await part;
  } catch (const aio::cancelled_error&) {
  }
  CHECK_AWAIT(f.tell(), 0);
  CHECK_AWAIT(f.seek(2, SEEK_CUR), 2);  // from the logical position, not the stream's
  co_await f.seek(0);
  aio::future<std::string> again = aio::create_task(f.read(4));
  co_await aio::yield();
  again.cancel();
  try {
    co_await again;
  } catch (const aio::cancelled_error&) {
  }
  co_await f.write("AB");  // where the cancelled read began
  co_await f.close();
  CHECK(slurp(path) == "AB23456789");
}
TEST_CASE("a cancelled read moves no position (tell and seek and write see where it began)", "[files]") {
  temp_dir dir;
  spew(dir.file("rw.txt"), "0123456789");
  aio::test::run_test(cancel_then_write_main(dir.file("rw.txt")));
}

aio::task<void> cancel_open_main(std::string path, std::size_t baseline) {
  aio::future<aio::async_file> opening = aio::create_task(aio::open_file(path, "w"));
  co_await aio::yield();
  CHECK(opening.cancel());
  try {
    co_await opening;
    FAIL("the cancelled open returned");
  } catch (const aio::cancelled_error&) {
  }
  // The open finishes on its thread; its result is dropped, which closes it.
  for (int i = 0; i < 500 && !(fs::exists(path) && open_descriptors() == baseline); ++i) co_await aio::sleep(2ms);
  CHECK(fs::exists(path));  // it was opened...
  CHECK(open_descriptors() == baseline);  // ...and closed again
}
TEST_CASE("a cancelled open leaks no descriptor", "[files]") {
  temp_dir dir;
  aio::event_loop loop{aio::virtual_time};
  const std::size_t with_loop = open_descriptors();
  loop.run_until_complete(cancel_open_main(dir.file("o.txt"), with_loop));
}

// --- lifetime ----------------------------------------------------------------------

aio::task<void> destroy_in_flight_main(std::string path, std::size_t baseline) {
  {
    aio::async_file f = co_await aio::open_file(path, "w");
    for (int i = 0; i < 100; ++i) {
      auto w = aio::create_task(f.write(std::string(10'000, static_cast<char>('a' + i % 26))));
      (void)w;
    }
    co_await aio::yield();  // the writes have started
  }  // destroyed unclosed, writes in flight: it is closed after them
  for (int i = 0; i < 500 && open_descriptors() != baseline; ++i) co_await aio::sleep(2ms);
  CHECK(open_descriptors() == baseline);
  CHECK(slurp(path).size() == 1'000'000);
}
TEST_CASE("destroying an unclosed file closes it after the operations in flight", "[files]") {
  temp_dir dir;
  const std::size_t before = open_descriptors();
  {
    aio::event_loop loop{aio::virtual_time};
    const std::size_t with_loop = open_descriptors();  // the loop's epoll and eventfd
    loop.run_until_complete(destroy_in_flight_main(dir.file("d.txt"), with_loop));
  }
  CHECK(open_descriptors() == before);
}

aio::task<aio::async_file> open_and_return(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "w");
  co_await f.write("kept");
  co_return f;
}
aio::task<void> use_elsewhere(aio::async_file& f) { co_await f.write("x"); }
TEST_CASE("a file outliving its loop is closed without a loop and refused by another loop", "[files]") {
  temp_dir dir;
  const std::size_t before = open_descriptors();
  {
    aio::async_file f;
    {
      aio::event_loop a{aio::virtual_time};
      f = a.run_until_complete(open_and_return(dir.file("k.txt")));
      {
        aio::event_loop b{aio::virtual_time};  // alive together: a different loop for sure
        CHECK_THROWS_AS(b.run_until_complete(use_elsewhere(f)), aio::invalid_state_error);
      }
      CHECK(!f.closed());
    }
    CHECK(slurp(dir.file("k.txt")).empty());  // still in the stream's buffer
  }  // no loop: closed (and flushed) at once
  CHECK(slurp(dir.file("k.txt")) == "kept");
  CHECK(open_descriptors() == before);
}

aio::task<void> fire_and_forget(std::string path) {
  aio::async_file f = co_await aio::open_file(path, "w");
  for (int i = 0; i < 20; ++i) {
    auto w = aio::create_task(f.write("0123456789"));
    (void)w;
  }
  co_await aio::yield();
}  // returns with writes in flight: the file's destructor, then aio::run's shutdown
TEST_CASE("aio::run ending with writes in flight leaks no descriptor", "[files]") {
  temp_dir dir;
  const std::size_t before = open_descriptors();
  aio::test::run_test(fire_and_forget(dir.file("ff.txt")));
  CHECK(open_descriptors() == before);
  const std::string got = slurp(dir.file("ff.txt"));
  CHECK(got.size() % 10 == 0);  // the writes that ran did so whole, in order
  CHECK(got.size() <= 200);
}

}  // namespace
