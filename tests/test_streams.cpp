// Tests for aio/streams.hpp, the reader and writer side: read(n), read(-1),
// readexactly, readline, readuntil and its limit, at_eof, peer reset,
// back-pressure with drain, write after close, half-close, cancellation without
// data loss, concurrent readers, the extra info, and wait_readable /
// wait_writable on raw descriptors. Servers (echo with many clients, close,
// wait_closed, serve_forever) and connect errors are in test_streams_server.cpp.
//
// Real loopback sockets and pipes on real-time loops (aio::run): every wait is
// bounded, so a lost wake-up fails an assertion instead of hanging.
#include <aio/streams.hpp>

#include "support/catch.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// --- result types ------------------------------------------------------------

static_assert(std::is_same_v<decltype(std::declval<aio::stream_reader&>().read(5)), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::stream_reader&>().readexactly(5)), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::stream_reader&>().readline()), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::stream_reader&>().readuntil("x")), aio::task<std::string>>);
static_assert(std::is_same_v<decltype(std::declval<aio::stream_writer&>().drain()), aio::task<void>>);
static_assert(std::is_same_v<decltype(aio::open_connection("h", 1)),
                             aio::task<std::pair<aio::stream_reader, aio::stream_writer>>>);
static_assert(std::is_same_v<decltype(aio::open_unix_connection("/p")),
                             aio::task<std::pair<aio::stream_reader, aio::stream_writer>>>);
static_assert(std::is_base_of_v<std::runtime_error, aio::incomplete_read_error>);
static_assert(std::is_base_of_v<std::runtime_error, aio::limit_overrun_error>);
static_assert(std::is_copy_constructible_v<aio::stream_reader> && std::is_copy_constructible_v<aio::stream_writer>);

namespace {


std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 4093 + seed) & 0xff);
  return s;
}

/// True if awaiting `t` throws E (Catch's assertion macros stay outside co_await).
template <class E, class T>
aio::task<bool> throws(aio::task<T> t) {
  try {
    (void)co_await std::move(t);
  } catch (const E&) {
    co_return true;
  }
  co_return false;
}

/// Every test body runs under a deadline: a lost wake-up fails the test
/// (timeout_error) instead of hanging it.
template <class T>
T run_bounded(aio::task<T> t, std::chrono::seconds limit = 5s) {
  return aio::run(aio::wait_for(std::move(t), limit));
}

// --- a connected pair: both ends of one loopback connection ------------------------

/// The server side of one connection, held open until released.
struct held {
  std::optional<aio::stream_reader> reader;
  std::optional<aio::stream_writer> writer;
  aio::future<void> accepted;
  aio::future<void> release;
};

aio::task<void> hold(std::shared_ptr<held> h, aio::stream_reader r, aio::stream_writer w) {
  h->reader = r;
  h->writer = w;
  h->accepted.set_result();
  co_await h->release;
}

struct link {
  aio::server server;
  aio::stream_reader reader;  // client side
  aio::stream_writer writer;
  aio::stream_reader peer_reader;  // server side
  aio::stream_writer peer_writer;
  std::shared_ptr<held> h;
};

aio::task<link> open_link(std::string host, std::size_t client_limit = aio::detail::stream_transport::default_limit) {
  auto h = std::make_shared<held>();
  aio::connection_handler handler = [h](aio::stream_reader r, aio::stream_writer w) {
    return hold(h, std::move(r), std::move(w));
  };
  auto starting = aio::start_server(std::move(handler), host, 0);
  aio::server srv = co_await std::move(starting);
  auto connecting = aio::open_connection(host, srv.port(), client_limit);
  auto [r, w] = co_await std::move(connecting);
  co_await h->accepted;
  co_return link{srv, r, w, *h->reader, *h->writer, h};
}

/// Lets the server side go and closes everything.
aio::task<void> close_link(link l) {
  if (!l.h->release.done()) l.h->release.set_result();
  if (!l.writer.is_closing()) l.writer.close();
  l.server.close();
  auto closing = l.server.wait_closed();
  auto limited = aio::wait_for(std::move(closing), 2s);
  co_await std::move(limited);
}

/// True if this machine can bind ::1.
bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// --- read(n), read(-1), at_eof ------------------------------------------------------

aio::task<void> read_at_most_n() {
  link l = co_await open_link("127.0.0.1");
  const std::string sent = pattern(100);
  l.peer_writer.write(sent);
  std::string zero = co_await l.reader.read(0);
  CHECK(zero.empty());
  std::string got;
  int reads = 0;
  while (got.size() < sent.size() && reads < 1000) {
    std::string part = co_await l.reader.read(7);
    CHECK(part.size() >= 1);
    CHECK(part.size() <= 7);  // never more than asked, even with 100 bytes buffered
    got += part;
    ++reads;
  }
  CHECK(got == sent);
  CHECK(reads >= 15);  // 100 / 7 rounded up
  CHECK_FALSE(l.reader.at_eof());
  l.peer_writer.close();
  std::string end = co_await l.reader.read(7);
  CHECK(end.empty());  // "" at end of stream
  CHECK(l.reader.at_eof());
  co_await close_link(l);
}

TEST_CASE("read(n) returns at most n bytes, and \"\" at end of stream", "[streams]") {
  run_bounded(read_at_most_n());
}

aio::task<void> write_in_steps(aio::stream_writer w, std::vector<std::string> parts) {
  for (auto& p : parts) {
    w.write(p);
    co_await w.drain();
    co_await aio::sleep(3ms);  // separate segments, separate wake-ups
  }
  w.close();
}

aio::task<void> read_until_eof() {
  link l = co_await open_link("127.0.0.1");
  std::vector<std::string> parts{"first ", "second ", pattern(200000, 3), " last"};
  std::string expected;
  for (auto& p : parts) expected += p;
  aio::future<void> writing = aio::create_task(write_in_steps(l.peer_writer, parts));
  std::string all = co_await l.reader.read(-1);
  CHECK(all.size() == expected.size());
  CHECK((all == expected));  // parenthesized: Catch would print 200 KB on failure
  CHECK(l.reader.at_eof());
  std::string after = co_await l.reader.read();
  CHECK(after.empty());
  co_await writing;
  co_await close_link(l);
}

TEST_CASE("read(-1) reads everything until end of stream", "[streams]") { run_bounded(read_until_eof()); }

// --- readline / readuntil ------------------------------------------------------------

aio::task<void> readline_cases() {
  link l = co_await open_link("127.0.0.1");
  std::vector<std::string> parts{"line1\nline2\npar", "tial\n\n", "no newline"};
  aio::future<void> writing = aio::create_task(write_in_steps(l.peer_writer, parts));
  std::string got = co_await l.reader.readline();
  CHECK(got == "line1\n");
  got = co_await l.reader.readline();
  CHECK(got == "line2\n");
  got = co_await l.reader.readline();
  CHECK(got == "partial\n");
  got = co_await l.reader.readline();
  CHECK(got == "\n");
  got = co_await l.reader.readline();
  CHECK(got == "no newline");
  got = co_await l.reader.readline();
  CHECK(got == "");
  CHECK(l.reader.at_eof());
  co_await writing;
  co_await close_link(l);
}

TEST_CASE("readline returns lines with their newline, then the rest at end of stream", "[streams]") {
  run_bounded(readline_cases());
}

aio::task<void> readuntil_cases() {
  link l = co_await open_link("127.0.0.1");
  std::vector<std::string> parts{"a--b-", "-c\r\n\r\n", "tail"};
  aio::future<void> writing = aio::create_task(write_in_steps(l.peer_writer, parts));
  const std::string dashes = "--";
  const std::string blank = "\r\n\r\n";
  auto r1 = l.reader.readuntil(dashes);
  std::string got = co_await std::move(r1);
  CHECK(got == "a--");
  auto r2 = l.reader.readuntil(dashes);
  got = co_await std::move(r2);
  CHECK(got == "b--");
  auto r3 = l.reader.readuntil(blank);
  got = co_await std::move(r3);
  CHECK(got == "c\r\n\r\n");
  auto r4 = l.reader.readuntil(dashes);
  try {
    (void)co_await std::move(r4);
    FAIL("readuntil at end of stream without the separator must throw");
  } catch (const aio::incomplete_read_error& e) {
    CHECK(e.partial == "tail");
    CHECK(e.expected == 0);
  }
  CHECK(l.reader.at_eof());
  auto empty_sep = l.reader.readuntil(std::string());
  const bool rejected = co_await throws<aio::value_error>(std::move(empty_sep));
  CHECK(rejected);
  co_await writing;
  co_await close_link(l);
}

TEST_CASE("readuntil with a custom separator, split across segments; incomplete_read_error at end", "[streams]") {
  run_bounded(readuntil_cases());
}

aio::task<void> readuntil_limit() {
  link l = co_await open_link("127.0.0.1", 16);  // the client reader's limit
  const std::string long_line = "0123456789abcdefghijklmnopqrstuvwxyz";  // 36 bytes, no newline yet
  l.peer_writer.write(long_line);
  auto r1 = l.reader.readline();
  try {
    (void)co_await std::move(r1);
    FAIL("a line longer than the limit must throw limit_overrun_error");
  } catch (const aio::limit_overrun_error& e) {
    CHECK(e.consumed > 16);
  }
  // The data stays in the buffer: nothing was lost.
  l.peer_writer.write("\nshort\n");
  std::string again = co_await l.reader.readexactly(long_line.size() + 1);
  CHECK(again == long_line + "\n");
  std::string got = co_await l.reader.readline();
  CHECK(got == "short\n");

  // A separator that is there, but past the limit.
  l.peer_writer.write(long_line + "|rest|");
  co_await aio::sleep(5ms);
  const std::string bar = "|";
  auto r2 = l.reader.readuntil(bar);
  try {
    (void)co_await std::move(r2);
    FAIL("a separator past the limit must throw limit_overrun_error");
  } catch (const aio::limit_overrun_error& e) {
    CHECK(e.consumed == long_line.size());  // where the separator starts
  }
  std::string kept = co_await l.reader.readexactly(long_line.size() + 1);
  CHECK(kept == long_line + "|");
  auto r3 = l.reader.readuntil(bar);
  got = co_await std::move(r3);
  CHECK(got == "rest|");
  co_await close_link(l);
}

TEST_CASE("readuntil beyond the limit throws limit_overrun_error and the data stays readable", "[streams]") {
  run_bounded(readuntil_limit());
}

// --- readexactly -----------------------------------------------------------------

aio::task<void> readexactly_eof() {
  link l = co_await open_link("127.0.0.1");
  l.peer_writer.write("abcdefgh");
  std::string got = co_await l.reader.readexactly(3);
  CHECK(got == "abc");
  got = co_await l.reader.readexactly(0);
  CHECK(got == "");
  l.peer_writer.write("ij");
  l.peer_writer.close();
  try {
    (void)co_await l.reader.readexactly(10);
    FAIL("readexactly past the end of stream must throw");
  } catch (const aio::incomplete_read_error& e) {
    CHECK(e.partial == "defghij");
    CHECK(e.expected == 10);
    CHECK(std::string(e.what()).find("7 bytes read on a total of 10") != std::string::npos);
  }
  CHECK(l.reader.at_eof());  // the partial data was consumed
  co_await close_link(l);
}

TEST_CASE("end of stream in the middle of readexactly: incomplete_read_error with partial and expected",
          "[streams]") {
  run_bounded(readexactly_eof());
}

aio::task<void> write_all_then_drain(aio::stream_writer w, std::string data) {
  w.write(data);
  CHECK(w.buffer_size() > 0);  // 16 MiB cannot all fit in the socket: write() buffered the rest, at once
  co_await w.drain();
}

aio::task<void> sixteen_mib_both_ways() {
  link l = co_await open_link("127.0.0.1");
  const std::size_t n = 16u << 20;
  const std::string up = pattern(n, 1);
  const std::string down = pattern(n, 2);
  // Full duplex: both sides write 16 MiB in one write() while both read it
  // with readexactly, so every read and write is partial many times over.
  aio::future<void> w1 = aio::create_task(write_all_then_drain(l.writer, up));
  aio::future<void> w2 = aio::create_task(write_all_then_drain(l.peer_writer, down));
  auto r1 = aio::create_task(l.peer_reader.readexactly(n));
  auto r2 = aio::create_task(l.reader.readexactly(n));
  auto all = aio::gather(r1, r2, w1, w2);
  auto limited = aio::wait_for(std::move(all), 20s);
  auto [got_up, got_down, a, b] = co_await std::move(limited);
  (void)a;
  (void)b;
  CHECK(got_up.size() == n);
  CHECK(got_down.size() == n);
  CHECK((got_up == up));
  CHECK((got_down == down));
  CHECK(l.writer.buffer_size() == 0);
  co_await close_link(l);
}

TEST_CASE("16 MiB both ways at once: partial reads and writes, readexactly gets every byte in order",
          "[streams]") {
  run_bounded(sixteen_mib_both_ways(), 25s);
}

// --- errors: peer reset -----------------------------------------------------------------

aio::task<void> peer_reset() {
  link l = co_await open_link("127.0.0.1");
  // The server aborts the connection: SO_LINGER {1, 0} makes close() send RST.
  linger lg{1, 0};
  REQUIRE(::setsockopt(l.peer_writer.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  l.peer_writer.close();
  co_await aio::sleep(10ms);
  try {
    std::string got = co_await l.reader.read(100);
    FAIL("a reset must be an error, not end of stream (read returned " << got.size() << " bytes)");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ECONNRESET);
  }
  // Writing to the reset connection fails too (EPIPE or ECONNRESET), through drain.
  bool write_failed = false;
  try {
    for (int i = 0; i < 100 && !write_failed; ++i) {
      l.writer.write("x");
      co_await l.writer.drain();
      co_await aio::sleep(1ms);
    }
  } catch (const std::system_error& e) {
    write_failed = e.code().value() == EPIPE || e.code().value() == ECONNRESET;
  }
  CHECK(write_failed);
  co_await close_link(l);
}

TEST_CASE("a peer reset is std::system_error(ECONNRESET), not end of stream", "[streams]") {
  run_bounded(peer_reset());
}

// --- writing: back-pressure, close, half-close --------------------------------------------

struct drain_log {
  std::vector<std::string> events;
};

aio::task<void> drain_and_log(aio::stream_writer w, drain_log* log) {
  co_await w.drain();
  log->events.push_back("drained");
}

aio::task<void> back_pressure() {
  link l = co_await open_link("127.0.0.1");
  // Small kernel buffers, so that the socket holds little of what we write.
  const int small = 64 * 1024;
  ::setsockopt(l.writer.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(l.peer_writer.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  l.writer.set_write_buffer_limits(256 * 1024, 64 * 1024);

  // Under the high-water mark drain() does not wait.
  l.writer.write("small");
  drain_log log;
  aio::future<void> quick = aio::create_task(drain_and_log(l.writer, &log));
  co_await aio::yield();
  co_await aio::yield();
  CHECK(quick.done());
  std::string got = co_await l.peer_reader.readexactly(5);
  CHECK(got == "small");
  log.events.clear();

  const std::size_t n = 4u << 20;
  const std::string data = pattern(n, 5);
  l.writer.write(data);
  CHECK(l.writer.buffer_size() > 256u * 1024);
  aio::future<void> draining = aio::create_task(drain_and_log(l.writer, &log));
  co_await aio::sleep(50ms);  // the peer reads nothing: drain() must still be waiting
  CHECK_FALSE(draining.done());
  CHECK(log.events.empty());
  CHECK(l.writer.buffer_size() > 256u * 1024);

  log.events.push_back("peer reads");
  got = co_await l.peer_reader.readexactly(n);
  CHECK((got == data));
  auto finishing = aio::wait_for(draining, 2s);
  co_await std::move(finishing);
  CHECK(log.events == std::vector<std::string>{"peer reads", "drained"});
  CHECK(l.writer.buffer_size() <= 64u * 1024);
  co_await close_link(l);
}

TEST_CASE("back-pressure: drain() waits while the peer does not read, and completes once it does",
          "[streams]") {
  run_bounded(back_pressure());
}

aio::task<void> write_after_close() {
  link l = co_await open_link("127.0.0.1");
  l.writer.write("bye");
  CHECK_FALSE(l.writer.is_closing());
  l.writer.close();
  CHECK(l.writer.is_closing());
  CHECK_THROWS_AS(l.writer.write("more"), aio::invalid_state_error);
  auto closing = aio::wait_for(l.writer.wait_closed(), 2s);
  co_await std::move(closing);
  // What was written before close() was delivered, then end of stream.
  std::string got = co_await l.peer_reader.read(-1);
  CHECK(got == "bye");
  co_await close_link(l);
}

TEST_CASE("write after close throws invalid_state_error; what was written before is still sent", "[streams]") {
  run_bounded(write_after_close());
}

aio::task<void> half_close() {
  link l = co_await open_link("127.0.0.1");
  CHECK(l.writer.can_write_eof());
  l.writer.write("request");
  l.writer.write_eof();
  std::string req = co_await l.peer_reader.read(-1);  // the server sees end of stream...
  CHECK(req == "request");
  CHECK(l.peer_reader.at_eof());
  l.peer_writer.write("response");  // ...and can still answer
  l.peer_writer.close();
  std::string resp = co_await l.reader.read(-1);
  CHECK(resp == "response");
  co_await close_link(l);
}

TEST_CASE("write_eof half-closes: the peer reads end of stream and can still answer", "[streams]") {
  run_bounded(half_close());
}

// --- cancellation and concurrent reads --------------------------------------------------

aio::task<std::string> read_exactly_task(aio::stream_reader r, std::size_t n) { co_return co_await r.readexactly(n); }
aio::task<std::string> readline_task(aio::stream_reader r) { co_return co_await r.readline(); }
aio::task<std::string> read_all_task(aio::stream_reader r) { co_return co_await r.read(-1); }

template <class T>
aio::task<bool> cancelled(aio::future<T> f) {
  f.cancel();
  try {
    (void)co_await f;
  } catch (const aio::cancelled_error&) {
    co_return true;
  }
  co_return false;
}

aio::task<void> cancelled_reads_lose_nothing() {
  link l = co_await open_link("127.0.0.1");
  // readexactly: 4 of 10 bytes have arrived when it is cancelled.
  aio::future<std::string> r1 = aio::create_task(read_exactly_task(l.reader, 10));
  l.peer_writer.write("0123");
  co_await aio::sleep(10ms);
  CHECK_FALSE(r1.done());
  {
    const bool was_cancelled = co_await cancelled(r1);
    CHECK(was_cancelled);
  }
  l.peer_writer.write("456789");
  std::string got = co_await l.reader.readexactly(10);
  CHECK(got == "0123456789");

  // readline: half a line has arrived.
  aio::future<std::string> r2 = aio::create_task(readline_task(l.reader));
  l.peer_writer.write("half a ");
  co_await aio::sleep(10ms);
  {
    const bool was_cancelled = co_await cancelled(r2);
    CHECK(was_cancelled);
  }
  l.peer_writer.write("line\nnext\n");
  got = co_await l.reader.readline();
  CHECK(got == "half a line\n");
  got = co_await l.reader.readline();
  CHECK(got == "next\n");

  // read(-1): a megabyte has arrived, the end has not.
  aio::future<std::string> r3 = aio::create_task(read_all_task(l.reader));
  const std::string big = pattern(1u << 20, 9);
  l.peer_writer.write(big);
  co_await l.peer_writer.drain();
  co_await aio::sleep(10ms);
  {
    const bool was_cancelled = co_await cancelled(r3);
    CHECK(was_cancelled);
  }
  l.peer_writer.write("end");
  l.peer_writer.close();
  std::string rest = co_await l.reader.read(-1);
  CHECK(rest.size() == big.size() + 3);
  CHECK((rest == big + "end"));
  co_await close_link(l);
}

TEST_CASE("a read cancelled while waiting loses no data: the next read sees every byte in order", "[streams]") {
  run_bounded(cancelled_reads_lose_nothing());
}

aio::task<void> concurrent_reads() {
  link l = co_await open_link("127.0.0.1");
  aio::future<std::string> first = aio::create_task(read_exactly_task(l.reader, 5));
  co_await aio::sleep(5ms);  // `first` waits for data
  auto second = l.reader.read(1);
  const bool refused = co_await throws<aio::invalid_state_error>(std::move(second));
  CHECK(refused);
  l.peer_writer.write("hello");
  auto limited = aio::wait_for(first, 2s);
  std::string got = co_await std::move(limited);
  CHECK(got == "hello");
  co_await close_link(l);
}

TEST_CASE("two concurrent reads on one reader: the second throws invalid_state_error", "[streams]") {
  run_bounded(concurrent_reads());
}

aio::task<void> concurrent_reads_with_buffered_data() {
  link l = co_await open_link("127.0.0.1");
  aio::future<std::string> first = aio::create_task(read_exactly_task(l.reader, 10));
  l.peer_writer.write("0123");
  co_await aio::sleep(10ms);  // `first` holds 4 buffered bytes and waits for 6 more
  REQUIRE_FALSE(first.done());
  // asyncio raises RuntimeError here ("... another coroutine is already
  // waiting for incoming data"): a second reader must not take the bytes
  // the first one is waiting to complete.
  auto second = l.reader.read(2);
  const bool refused = co_await throws<aio::invalid_state_error>(std::move(second));
  CHECK(refused);
  l.peer_writer.write("456789");
  auto limited = aio::wait_for(first, 500ms);
  std::string got;
  try {
    got = co_await std::move(limited);
  } catch (const aio::timeout_error&) {
    got = "(timed out)";
  }
  CHECK(got == "0123456789");
  co_await close_link(l);
}

TEST_CASE("a second read while another waits with data buffered throws invalid_state_error, and steals nothing",
          "[streams]") {
  run_bounded(concurrent_reads_with_buffered_data());
}

// --- extra info ------------------------------------------------------------------------

aio::task<void> extra_info(std::string host) {
  link l = co_await open_link(host);
  const aio::endpoint peer = l.writer.peername();
  CHECK(peer.host == host);
  CHECK(peer.port == l.server.port());
  const std::string expected = host.find(':') != std::string::npos
                                   ? "[" + host + "]:" + std::to_string(l.server.port())
                                   : host + ":" + std::to_string(l.server.port());
  CHECK(l.writer.get_extra_info("peername") == expected);
  CHECK(peer.to_string() == expected);
  // The server sees the client's address.
  const aio::endpoint mine = l.writer.sockname();
  const aio::endpoint seen = l.peer_writer.peername();
  CHECK(seen.host == mine.host);
  CHECK(seen.port == mine.port);
  CHECK(mine.port != 0);
  CHECK(l.peer_writer.get_extra_info("sockname") == expected);
  CHECK(l.writer.get_extra_info("socket") == std::to_string(l.writer.fd()));
  CHECK(l.writer.get_extra_info("no such thing").empty());
  co_await close_link(l);
}

TEST_CASE("get_extra_info(\"peername\") / peername() / sockname() over IPv4 and IPv6", "[streams]") {
  run_bounded(extra_info("127.0.0.1"));
  if (ipv6_loopback_available()) run_bounded(extra_info("::1"));
  else WARN("IPv6 loopback unavailable: the ::1 half is skipped");
}

// --- wait_readable / wait_writable on descriptors aio does not own ------------------------

struct raw_pipe {
  int r = -1, w = -1;
  raw_pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~raw_pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  raw_pipe(const raw_pipe&) = delete;
  raw_pipe& operator=(const raw_pipe&) = delete;
};

aio::task<void> write_later(int fd, std::string data, std::chrono::milliseconds delay, std::vector<std::string>* log) {
  co_await aio::sleep(delay);
  log->push_back("written");
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
}

aio::task<std::string> wait_and_read(int fd, std::vector<std::string>* log) {
  co_await aio::wait_readable(fd);
  log->push_back("readable");
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  co_return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

aio::task<void> wait_and_log_writable(int fd, std::vector<std::string>* log) {
  co_await aio::wait_writable(fd);
  log->push_back("writable");
}

aio::task<void> just_wait_readable(int fd) { co_await aio::wait_readable(fd); }

aio::task<void> raw_pipe_waits() {
  raw_pipe p;
  std::vector<std::string> log;
  // Readable: only once the other end has written.
  aio::future<void> writer = aio::create_task(write_later(p.w, "ping", 10ms, &log));
  auto reading = aio::wait_for(wait_and_read(p.r, &log), 2s);
  std::string got = co_await std::move(reading);
  CHECK(got == "ping");
  CHECK(log == std::vector<std::string>{"written", "readable"});
  co_await writer;

  // Writable: at once on an empty pipe; after filling it, only once it is drained.
  co_await aio::wait_writable(p.w);
  std::string chunk(65536, 'x');
  std::size_t filled = 0;
  for (;;) {
    const ssize_t n = ::write(p.w, chunk.data(), chunk.size());
    if (n < 0) break;
    filled += static_cast<std::size_t>(n);
  }
  CHECK(errno == EAGAIN);
  CHECK(filled > 0);
  log.clear();
  aio::future<void> waiting_to_write = aio::create_task(wait_and_log_writable(p.w, &log));
  co_await aio::sleep(10ms);
  CHECK_FALSE(waiting_to_write.done());
  std::string sink(filled, '\0');
  std::size_t drained = 0;
  while (drained < filled) {
    const ssize_t n = ::read(p.r, sink.data() + drained, filled - drained);
    if (n <= 0) break;
    drained += static_cast<std::size_t>(n);
  }
  log.push_back("drained");
  auto limited = aio::wait_for(waiting_to_write, 2s);
  co_await std::move(limited);
  CHECK(log == std::vector<std::string>{"drained", "writable"});

  // A cancelled wait leaves the descriptor usable for the next one.
  aio::future<void> abandoned = aio::create_task(just_wait_readable(p.r));
  co_await aio::sleep(5ms);
  {
    const bool was_cancelled = co_await cancelled(abandoned);
    CHECK(was_cancelled);
  }
  log.clear();
  aio::future<void> writer2 = aio::create_task(write_later(p.w, "pong", 5ms, &log));
  auto reading2 = aio::wait_for(wait_and_read(p.r, &log), 2s);
  got = co_await std::move(reading2);
  CHECK(got == "pong");
  co_await writer2;
}

TEST_CASE("wait_readable / wait_writable on a raw non-blocking pipe", "[streams]") { run_bounded(raw_pipe_waits()); }

aio::task<void> raw_socketpair_waits() {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  std::vector<std::string> log;
  // Both directions of one descriptor at once: a reader and a writer wait on sv[0].
  co_await aio::wait_writable(sv[0]);
  aio::future<void> writer = aio::create_task(write_later(sv[1], "over a socketpair", 10ms, &log));
  auto reading = aio::wait_for(wait_and_read(sv[0], &log), 2s);
  std::string got = co_await std::move(reading);
  CHECK(got == "over a socketpair");
  co_await writer;
  // End of stream wakes a reader too.
  log.clear();
  aio::future<std::string> at_end = aio::create_task(wait_and_read(sv[0], &log));
  co_await aio::sleep(5ms);
  ::close(sv[1]);
  auto limited = aio::wait_for(at_end, 2s);
  got = co_await std::move(limited);
  CHECK(got == "");
  ::close(sv[0]);
}

TEST_CASE("wait_readable / wait_writable on a raw socketpair; end of stream wakes the reader", "[streams]") {
  run_bounded(raw_socketpair_waits());
}

aio::task<void> fd_number_reused() {
  std::vector<std::string> log;
  int number = -1;
  {
    raw_pipe first;
    number = first.r;
    aio::future<void> writer = aio::create_task(write_later(first.w, "old", 5ms, &log));
    auto reading = aio::wait_for(wait_and_read(first.r, &log), 2s);
    std::string got = co_await std::move(reading);
    CHECK(got == "old");
    co_await writer;
    // Readable data left behind in the old pipe: the new descriptor must not
    // inherit its readiness.
    REQUIRE(::write(first.w, "stale", 5) == 5);
  }  // both ends closed: the number is free
  raw_pipe second;
  if (second.r != number) {
    REQUIRE(::dup3(second.r, number, O_CLOEXEC) == number);  // take the same number explicitly
    ::close(second.r);
    second.r = number;
  }
  log.clear();
  aio::future<void> writer = aio::create_task(write_later(second.w, "new", 20ms, &log));
  auto reading = aio::wait_for(wait_and_read(second.r, &log), 2s);
  std::string got;
  try {
    got = co_await std::move(reading);
  } catch (const aio::timeout_error&) {
    got = "(timed out: the reactor did not re-arm the reused number)";
  }
  CHECK(got == "new");
  CHECK(log == std::vector<std::string>{"written", "readable"});
  co_await writer;
}

TEST_CASE("a foreign descriptor closed and reopened with the same number works with wait_readable",
          "[streams]") {
  run_bounded(fd_number_reused());
}

}  // namespace
