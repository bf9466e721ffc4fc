// 15 — Performance Considerations: Benchmarking (the guide's sync vs async
// benchmark).
//
// The guide times fetch_data for 100 URLs, once one after the other and once
// all at once with asyncio.gather. This machine has no network, so the program
// serves the 100 URLs itself, with an aio::http server on 127.0.0.1 (a port
// the kernel picks) whose handler waits 50 ms before answering, as a remote
// server's latency would. Then it fetches them three ways:
//
//   sync        the guide's sync_benchmark: blocking POSIX sockets, one
//               request after the other, as requests.get(url) does. Blocking
//               calls must not run on the loop's thread (the server lives
//               there), so it runs on a worker thread with aio::to_thread.
//   sequential  `co_await` each fetch before starting the next: async code
//               written like sync code, and just as slow.
//   concurrent  the guide's async_benchmark: the 100 fetches gathered with
//               aio::gather on one aio::http::client_session.
//
// The first two take 100 × 50 ms = 5 s plus a little; the third about 50 ms
// plus a little: the latencies overlap. (The time per request beyond the 50 ms
// is what the bench/ workloads measure; here it is noise.)
//
// Python                                       C++
//   start = time.time()                          auto start = std::chrono::steady_clock::now();
//   await asyncio.gather(*[fetch_data(f"url{i}")   std::vector<aio::task<std::string>> tasks; ...
//                          for i in range(100)])   co_await aio::gather(std::move(tasks));

#include <aio/event_loop.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;

constexpr int url_count = 100;
constexpr auto latency = 50ms;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// --- the 100 "remote" URLs, served locally ---------------------------------------------

/// GET /data/{i}: "Data from url{i}", after `latency`.
aio::task<aio::http::response> data(aio::http::request& req) {
  co_await aio::sleep(latency);
  co_return aio::http::response::text("Data from url" + req.path_param("i"));
}

// --- sync: blocking sockets ------------------------------------------------------------

// [sync]
/// fetch_data_sync(url): requests.get(url).text, in plain POSIX calls that
/// block until done. A new connection per request, closed by the server after
/// its answer (`Connection: close`), so the body is everything up to EOF.
std::string fetch_data_sync(std::uint16_t port, int i) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  int error = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) error = errno;
  const std::string request = "GET /data/" + std::to_string(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; error == 0 && sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) error = errno;
    else sent += static_cast<std::size_t>(n);
  }
  char buffer[4096];
  while (error == 0) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0) error = errno;
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (error != 0) throw std::system_error(error, std::generic_category(), "GET /data/" + std::to_string(i));
  const std::size_t body = reply.find("\r\n\r\n");
  if (reply.compare(0, 13, "HTTP/1.1 200 ") != 0 || body == std::string::npos)
    throw std::runtime_error("GET /data/" + std::to_string(i) + ": unexpected reply");
  return reply.substr(body + 4);
}

/// sync_benchmark(): one request after the other; returns the seconds taken.
double sync_benchmark(std::uint16_t port) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < url_count; ++i) fetch_data_sync(port, i);
  return seconds_since(start);
}
// [/sync]

// --- async: aio::http::client_session --------------------------------------------------

// [async]
aio::task<std::string> fetch_data(aio::http::client_session& session, std::string url) {
  auto getting = session.get(url);
  aio::http::client_response response = co_await std::move(getting);
  response.raise_for_status();
  co_return co_await response.text();
}

/// Async code with a blocking-style loop: each fetch is awaited before the
/// next starts, so nothing overlaps (one keep-alive connection, reused).
aio::task<double> sequential_benchmark(aio::http::client_session& session, std::string base) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < url_count; ++i) co_await fetch_data(session, base + "/data/" + std::to_string(i));
  co_return seconds_since(start);
}

/// async_benchmark(): all 100 at once. Each request in flight needs a
/// connection of its own; client_options::limit (aiohttp's TCPConnector
/// limit, 100 by default) caps how many the session opens. 100 lets all of
/// them run together; with limit 10, the gather would run in 10 waves of
/// 50 ms. Say the limit here rather than rely on the default matching.
aio::task<double> async_benchmark(std::string base) {
  aio::http::client_options options;
  options.limit = url_count;
  aio::http::client_session session{options};
  const auto start = std::chrono::steady_clock::now();
  std::vector<aio::task<std::string>> tasks;
  for (int i = 0; i < url_count; ++i) tasks.push_back(fetch_data(session, base + "/data/" + std::to_string(i)));
  std::vector<std::string> results = co_await aio::gather(std::move(tasks));
  const double took = seconds_since(start);
  for (int i = 0; i < url_count; ++i)  // gather keeps the order of its arguments
    if (results[static_cast<std::size_t>(i)] != "Data from url" + std::to_string(i))
      throw std::runtime_error("url" + std::to_string(i) + ": wrong answer");
  co_return took;
}
// [/async]

aio::task<void> async_main() {
  aio::http::app app;
  app.get("/data/{i}", data);
  auto starting = aio::http::start_server(app, "127.0.0.1", 0);
  aio::http::server server = co_await std::move(starting);
  const std::uint16_t port = server.port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::printf("%d URLs, each answered after %lld ms by a local aio::http server\n", url_count,
              static_cast<long long>(latency.count()));

  const double sync = co_await aio::to_thread(sync_benchmark, port);
  std::printf("sync:       %d requests in %.2f s  (blocking sockets, one after the other)\n", url_count, sync);

  double sequential = 0;
  {
    aio::http::client_session session;
    sequential = co_await sequential_benchmark(session, base);
  }
  std::printf("sequential: %d requests in %.2f s  (co_await each before the next)\n", url_count, sequential);

  const double concurrent = co_await async_benchmark(base);
  std::printf("concurrent: %d requests in %.2f s  (aio::gather)\n", url_count, concurrent);
  // Varies from run to run (60x to 90x here): the concurrent time is one
  // latency plus the cost of 100 connections, which a busy machine stretches.
  std::printf("speed-up:   %.1fx\n", sequential / concurrent);

  server.shutdown();
  co_await server.wait_closed();
}

int main() { aio::run(async_main()); }
