// Tests for aio/streams.hpp, servers and connecting: start_server /
// start_unix_server with many concurrent clients (TCP over 127.0.0.1 and ::1,
// Unix sockets), port 0, sockets(), close() and wait_closed() (which waits for
// the handlers), serve_forever and its cancellation, bind errors, failing
// handlers, stale Unix socket files; open_connection refused, to an unknown
// host, and with a timeout. Reader and writer semantics are in test_streams.cpp.
//
// Real loopback sockets on real-time loops; every test body runs under a
// deadline, so a lost wake-up fails instead of hanging.
#include <aio/streams.hpp>

#include "support/catch.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

static_assert(std::is_same_v<decltype(aio::start_server(aio::connection_handler{}, "h", 0)), aio::task<aio::server>>);
static_assert(std::is_same_v<decltype(aio::start_unix_server(aio::connection_handler{}, "/p")),
                             aio::task<aio::server>>);
static_assert(std::is_same_v<decltype(std::declval<aio::server&>().serve_forever()), aio::task<void>>);
static_assert(std::is_same_v<decltype(std::declval<aio::server&>().wait_closed()), aio::task<void>>);
static_assert(std::is_same_v<decltype(std::declval<const aio::server&>().port()), std::uint16_t>);
static_assert(std::is_same_v<decltype(std::declval<const aio::server&>().sockets()), std::vector<aio::endpoint>>);

namespace {

using clk = std::chrono::steady_clock;
double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

template <class T>
T run_bounded(aio::task<T> t, std::chrono::seconds limit = 5s) {
  return aio::run(aio::wait_for(std::move(t), limit));
}

template <class E, class T>
aio::task<bool> throws(aio::task<T> t) {
  try {
    (void)co_await std::move(t);
  } catch (const E&) {
    co_return true;
  }
  co_return false;
}

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

/// A private temporary directory, removed (with what is left in it) at the end.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/aio-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    const std::string sock = path + "/echo.sock";
    ::unlink(sock.c_str());
    ::rmdir(path.c_str());
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

bool file_exists(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0;
}

// --- echo ------------------------------------------------------------------------

/// The server side: echoes lines until end of stream, then returns (the server
/// closes the connection).
aio::task<void> echo_lines(aio::stream_reader r, aio::stream_writer w) {
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) break;
    w.write(line);
    co_await w.drain();
  }
}

struct target {
  std::string host;  // a host name or address, or a Unix socket path
  std::uint16_t port = 0;
  bool unix_socket = false;
};

aio::task<std::pair<aio::stream_reader, aio::stream_writer>> connect_to(target t) {
  if (t.unix_socket) {
    auto connecting = aio::open_unix_connection(t.host);
    co_return co_await std::move(connecting);
  }
  auto connecting = aio::open_connection(t.host, t.port);
  co_return co_await std::move(connecting);
}

/// One client: three lines there and back, then end of stream both ways.
aio::task<std::string> echo_client(target t, int id) {
  auto connecting = connect_to(t);
  auto [r, w] = co_await std::move(connecting);
  for (int i = 0; i < 3; ++i) {
    const std::string msg = "client " + std::to_string(id) + " line " + std::to_string(i) + "\n";
    w.write(msg);
    std::string back = co_await r.readline();
    if (back != msg) co_return "client " + std::to_string(id) + ": sent '" + msg + "', got '" + back + "'";
  }
  w.write_eof();
  std::string rest = co_await r.read(-1);  // the handler returned: the server closed its side
  if (!rest.empty()) co_return "client " + std::to_string(id) + ": unexpected trailing data";
  w.close();
  co_return "ok";
}

struct echo_report {
  std::size_t ok = 0;
  std::vector<std::string> failures;
  std::uint16_t port = 0;
  std::vector<aio::endpoint> sockets;
  bool serving_before = false, serving_after = true;
  std::size_t sockets_after = 1;
};

aio::task<echo_report> echo_many(target where, int clients) {
  echo_report rep;
  aio::server srv;
  if (where.unix_socket) {
    auto starting = aio::start_unix_server(echo_lines, where.host);
    srv = co_await std::move(starting);
  } else {
    auto starting = aio::start_server(echo_lines, where.host, 0);
    srv = co_await std::move(starting);
    where.port = srv.port();
  }
  rep.port = srv.port();
  rep.sockets = srv.sockets();
  rep.serving_before = srv.is_serving();
  std::vector<aio::task<std::string>> all;
  for (int i = 0; i < clients; ++i) all.push_back(echo_client(where, i));
  auto together = aio::gather(std::move(all));
  std::vector<std::string> results = co_await std::move(together);
  for (auto& r : results) {
    if (r == "ok") ++rep.ok;
    else rep.failures.push_back(r);
  }
  srv.close();
  rep.serving_after = srv.is_serving();
  rep.sockets_after = srv.sockets().size();
  co_await srv.wait_closed();
  co_return rep;
}

TEST_CASE("echo over TCP 127.0.0.1 with 100 concurrent clients", "[streams][server]") {
  const echo_report rep = run_bounded(echo_many(target{"127.0.0.1", 0, false}, 100));
  CHECK(rep.ok == 100);
  CHECK(rep.failures.empty());
  CHECK(rep.port != 0);
  REQUIRE(rep.sockets.size() == 1);
  CHECK(rep.sockets[0].host == "127.0.0.1");
  CHECK(rep.sockets[0].port == rep.port);
  CHECK(rep.serving_before);
  CHECK_FALSE(rep.serving_after);
  CHECK(rep.sockets_after == 0);
}

TEST_CASE("echo over TCP ::1 with 100 concurrent clients", "[streams][server]") {
  if (!ipv6_loopback_available()) {
    WARN("IPv6 loopback unavailable: skipped");
    return;
  }
  const echo_report rep = run_bounded(echo_many(target{"::1", 0, false}, 100));
  CHECK(rep.ok == 100);
  CHECK(rep.failures.empty());
  REQUIRE(rep.sockets.size() == 1);
  CHECK(rep.sockets[0].host == "::1");
  CHECK(rep.sockets[0].to_string() == "[::1]:" + std::to_string(rep.port));
}

TEST_CASE("echo over a Unix socket with 100 concurrent clients; the socket file is removed on close",
          "[streams][server]") {
  temp_dir dir;
  const std::string path = dir.path + "/echo.sock";
  const echo_report rep = run_bounded(echo_many(target{path, 0, true}, 100));
  CHECK(rep.ok == 100);
  CHECK(rep.failures.empty());
  CHECK(rep.port == 0);
  REQUIRE(rep.sockets.size() == 1);
  CHECK(rep.sockets[0].host == path);
  CHECK(rep.sockets[0].to_string() == path);
  CHECK_FALSE(file_exists(path));
}

aio::task<std::string> stale_socket_file(std::string path) {
  // A socket file left behind by an earlier run.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::close(fd);
  REQUIRE(file_exists(path));
  auto starting = aio::start_unix_server(echo_lines, path);
  aio::server srv = co_await std::move(starting);
  const target where{path, 0, true};  // g++ 12: no braced temporary inside a co_await operand
  std::string result = co_await echo_client(where, 1);
  srv.close();
  co_await srv.wait_closed();
  co_return result;
}

TEST_CASE("start_unix_server replaces a stale socket file", "[streams][server]") {
  temp_dir dir;
  CHECK(run_bounded(stale_socket_file(dir.path + "/echo.sock")) == "ok");
}

// --- binding -------------------------------------------------------------------------

aio::task<void> ignore_connection(aio::stream_reader, aio::stream_writer) { co_return; }

aio::task<std::string> any_interface() {
  auto starting = aio::start_server(echo_lines, "", 0);  // "" is every interface
  aio::server srv = co_await std::move(starting);
  const auto socks = srv.sockets();
  REQUIRE(socks.size() == 1);
  CHECK(socks[0].host == "0.0.0.0");
  const target where{"127.0.0.1", srv.port(), false};
  std::string result = co_await echo_client(where, 7);
  srv.close();
  co_await srv.wait_closed();
  co_return result;
}

TEST_CASE("start_server with host \"\" listens on every interface", "[streams][server]") {
  CHECK(run_bounded(any_interface()) == "ok");
}

aio::task<std::string> address_in_use(int* code) {
  auto first_starting = aio::start_server(ignore_connection, "127.0.0.1", 0);
  aio::server first = co_await std::move(first_starting);
  std::string what;
  try {
    auto second_starting = aio::start_server(ignore_connection, "127.0.0.1", first.port());
    aio::server second = co_await std::move(second_starting);
    second.close();
    what = "bound twice";
  } catch (const std::system_error& e) {
    *code = e.code().value();
    what = e.what();
  }
  const std::string expected = "127.0.0.1:" + std::to_string(first.port());
  CHECK_THAT(what, Catch::Contains(expected));
  first.close();
  co_await first.wait_closed();
  co_return what;
}

TEST_CASE("start_server on a port in use: std::system_error(EADDRINUSE) naming host and port",
          "[streams][server]") {
  int code = 0;
  const std::string what = run_bounded(address_in_use(&code));
  CHECK(code == EADDRINUSE);
  CHECK(what != "bound twice");
}

aio::task<bool> empty_handler() {
  auto starting = aio::start_server(aio::connection_handler{}, "127.0.0.1", 0);
  co_return co_await throws<aio::value_error>(std::move(starting));
}

TEST_CASE("start_server with an empty handler throws value_error", "[streams][server]") {
  CHECK(run_bounded(empty_handler()));
}

// --- connecting: refused, unknown host, timeout ------------------------------------------

/// A TCP socket bound to a free loopback port and not listening: connects to it are refused.
struct bound_socket {
  int fd = -1;
  std::uint16_t port = 0;
  explicit bound_socket(int family) {
    fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    }
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
    port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~bound_socket() { ::close(fd); }
  bound_socket(const bound_socket&) = delete;
  bound_socket& operator=(const bound_socket&) = delete;
};

aio::task<std::string> connect_error(std::string host, std::uint16_t port, int* code) {
  try {
    auto connecting = aio::open_connection(host, port);
    auto rw = co_await std::move(connecting);
    (void)rw;
  } catch (const std::system_error& e) {
    *code = e.code().value();
    co_return e.what();
  }
  co_return "connected";
}

TEST_CASE("connect refused: std::system_error(ECONNREFUSED) naming host and port", "[streams]") {
  bound_socket b{AF_INET};
  int code = 0;
  const std::string what = run_bounded(connect_error("127.0.0.1", b.port, &code));
  CHECK(code == ECONNREFUSED);
  CHECK_THAT(what, Catch::Contains("127.0.0.1:" + std::to_string(b.port)));
  if (ipv6_loopback_available()) {
    bound_socket b6{AF_INET6};
    code = 0;
    const std::string what6 = run_bounded(connect_error("::1", b6.port, &code));
    CHECK(code == ECONNREFUSED);
    CHECK_THAT(what6, Catch::Contains("[::1]:" + std::to_string(b6.port)));
  } else {
    WARN("IPv6 loopback unavailable: the ::1 half is skipped");
  }
}

TEST_CASE("an unknown host is a std::system_error naming it", "[streams]") {
  int code = 0;
  const auto t0 = clk::now();
  const std::string what = run_bounded(connect_error("no-such-host.invalid", 80, &code));
  CHECK(what != "connected");
  CHECK(code != 0);
  CHECK_THAT(what, Catch::Contains("no-such-host.invalid:80"));
  CHECK(ms_since(t0) < 5000.0);
}

aio::task<std::string> connect_timeout() {
  // A listener with backlog 0 accepts one connection into its queue and
  // ignores the next SYNs: the second connect hangs until wait_for gives up.
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(::listen(lfd, 0) == 0);
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::uint16_t port = ntohs(a.sin_port);
  std::string outcome;
  // The first fits in the queue, and wait_for returns the connection.
  auto first = aio::wait_for(aio::open_connection("127.0.0.1", port), 2s);
  auto kept = co_await std::move(first);
  outcome += "first connected;";
  const auto t0 = clk::now();
  try {
    auto second = aio::wait_for(aio::open_connection("127.0.0.1", port), 150ms);
    auto rw = co_await std::move(second);
    (void)rw;
    outcome += "second connected;";
  } catch (const aio::timeout_error&) {
    outcome += "second timed out;";
  }
  const double ms = ms_since(t0);
  CHECK(ms >= 140.0);
  CHECK(ms < 1000.0);
  kept.second.close();
  ::close(lfd);
  co_return outcome;
}

TEST_CASE("open_connection composes with wait_for: a connect that hangs times out", "[streams]") {
  CHECK(run_bounded(connect_timeout()) == "first connected;second timed out;");
}

// --- close, wait_closed, serve_forever --------------------------------------------------

struct handler_log {
  std::vector<std::string> events;
};

aio::task<void> logging_echo(handler_log* log, aio::stream_reader r, aio::stream_writer w) {
  log->events.push_back("handler started");
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) break;
    w.write(line);
    co_await w.drain();
  }
  co_await aio::sleep(20ms);  // some cleanup after the client left
  log->events.push_back("handler finished");
}

aio::task<void> wait_closed_and_log(aio::server srv, handler_log* log) {
  co_await srv.wait_closed();
  log->events.push_back("wait_closed returned");
}

aio::task<int> refused_code(std::uint16_t port) {
  try {
    auto connecting = aio::open_connection("127.0.0.1", port);
    auto rw = co_await std::move(connecting);
    rw.second.close();
  } catch (const std::system_error& e) {
    co_return e.code().value();
  }
  co_return 0;
}

aio::task<void> close_waits_for_handlers() {
  handler_log log;
  aio::connection_handler handler = [&log](aio::stream_reader r, aio::stream_writer w) {
    return logging_echo(&log, std::move(r), std::move(w));
  };
  auto starting = aio::start_server(std::move(handler), "127.0.0.1", 0);
  aio::server srv = co_await std::move(starting);
  const std::uint16_t port = srv.port();
  auto connecting = aio::open_connection("127.0.0.1", port);
  auto [r, w] = co_await std::move(connecting);
  w.write("before close\n");
  std::string first = co_await r.readline();
  CHECK(first == "before close\n");

  srv.close();  // stops listening; the connection goes on
  CHECK_FALSE(srv.is_serving());
  CHECK(srv.sockets().empty());
  {
    const int code = co_await refused_code(port);
    CHECK(code == ECONNREFUSED);
  }
  aio::future<void> waiting = aio::create_task(wait_closed_and_log(srv, &log));
  w.write("after close\n");
  std::string echoed = co_await r.readline();
  CHECK(echoed == "after close\n");
  co_await aio::sleep(10ms);
  CHECK_FALSE(waiting.done());  // a handler is still running

  log.events.push_back("client leaves");
  w.close();
  auto limited = aio::wait_for(waiting, 2s);
  co_await std::move(limited);
  CHECK(log.events ==
        std::vector<std::string>{"handler started", "client leaves", "handler finished", "wait_closed returned"});
  // Closing again, and waiting again, are harmless.
  srv.close();
  co_await srv.wait_closed();
}

TEST_CASE("close() stops listening at once; wait_closed() waits until every handler has finished",
          "[streams][server]") {
  run_bounded(close_waits_for_handlers());
}

aio::task<void> cancel_serve_forever() {
  auto starting = aio::start_server(echo_lines, "127.0.0.1", 0);
  aio::server srv = co_await std::move(starting);
  const std::uint16_t port = srv.port();
  aio::future<void> serving = aio::create_task(srv.serve_forever());
  co_await aio::sleep(5ms);
  const target where{"127.0.0.1", port, false};
  std::string before = co_await echo_client(where, 1);
  CHECK(before == "ok");
  CHECK_FALSE(serving.done());
  CHECK(serving.cancel());
  bool cancelled = false;
  try {
    co_await serving;
  } catch (const aio::cancelled_error&) {
    cancelled = true;
  }
  CHECK(cancelled);
  CHECK_FALSE(srv.is_serving());
  CHECK(srv.sockets().empty());
  {
    const int code = co_await refused_code(port);
    CHECK(code == ECONNREFUSED);
  }
  co_await srv.wait_closed();
  // A closed server cannot serve again.
  CHECK_THROWS_AS(srv.serve_forever(), aio::invalid_state_error);
}

TEST_CASE("cancelling serve_forever closes the server", "[streams][server]") { run_bounded(cancel_serve_forever()); }

aio::task<void> close_later(aio::server srv) {
  co_await aio::sleep(10ms);
  srv.close();
}

aio::task<double> serve_forever_until_closed() {
  auto starting = aio::start_server(echo_lines, "127.0.0.1", 0);
  aio::server srv = co_await std::move(starting);
  aio::future<void> closer = aio::create_task(close_later(srv));
  const auto t0 = std::chrono::steady_clock::now();
  co_await srv.serve_forever();  // returns normally once close() is called
  co_await closer;
  co_return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

TEST_CASE("serve_forever returns when the server is closed", "[streams][server]") {
  const double ms = run_bounded(serve_forever_until_closed());
  CHECK(ms >= 9.0);
  CHECK(ms < 1000.0);
}

// --- failing handlers ------------------------------------------------------------------

aio::task<void> fails_after_a_line(aio::stream_reader r, aio::stream_writer w) {
  std::string line = co_await r.readline();
  if (line == "boom\n") throw std::runtime_error("handler failed on purpose (expected in this test)");
  w.write(line);
}

aio::task<std::string> failing_handler() {
  auto starting = aio::start_server(fails_after_a_line, "127.0.0.1", 0);
  aio::server srv = co_await std::move(starting);
  auto c1 = aio::open_connection("127.0.0.1", srv.port());
  auto [r1, w1] = co_await std::move(c1);
  w1.write("boom\n");
  std::string after_failure = co_await r1.read(-1);  // the failed handler's connection is closed
  w1.close();
  // The server goes on serving.
  auto c2 = aio::open_connection("127.0.0.1", srv.port());
  auto [r2, w2] = co_await std::move(c2);
  w2.write("fine\n");
  std::string echoed = co_await r2.read(-1);
  w2.close();
  srv.close();
  co_await srv.wait_closed();
  co_return "[" + after_failure + "][" + echoed + "]";
}

TEST_CASE("a handler that throws closes its connection; the server goes on", "[streams][server]") {
  CHECK(run_bounded(failing_handler()) == "[][fine\n]");
}

}  // namespace
