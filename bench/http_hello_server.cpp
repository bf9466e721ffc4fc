// http_hello_server — the server side of the `http_hello` workload
// (shared/bench/WORKLOADS.md): an aio::http app answering `GET /` with 200,
// `Content-Type: text/plain` and the body `Hello, World!`, over HTTP/1.1 with
// keep-alive. bench/http_hello starts it, loads it with wrk from another
// process and reads its CPU time from /proc.
//
//   http_hello_server [--host 127.0.0.1] [--port 0]
//
// Prints `port N` on a line of its own once listening (port 0, the default,
// picks a free one), serves until SIGINT or SIGTERM, then shuts down
// gracefully (what aio::http::serve does; start_server is called directly
// only to learn the port).

#include <aio/event_loop.hpp>
#include <aio/http/server.hpp>
#include <aio/task.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {

aio::task<aio::http::response> hello(aio::http::request&) {
  co_return aio::http::response(200, "Hello, World!", "text/plain");
}

aio::task<void> run(std::string host, std::uint16_t port) {
  aio::http::app app;
  app.get("/", hello);
  auto starting = aio::http::start_server(app, host, port);
  aio::http::server srv = co_await std::move(starting);
  std::printf("port %u\n", static_cast<unsigned>(srv.port()));
  std::fflush(stdout);
  aio::event_loop& loop = aio::get_running_loop();
  loop.add_signal_handler(SIGINT, [srv]() mutable { srv.shutdown(); });
  loop.add_signal_handler(SIGTERM, [srv]() mutable { srv.shutdown(); });
  co_await srv.serve_forever();
  loop.remove_signal_handler(SIGINT);
  loop.remove_signal_handler(SIGTERM);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--host" || arg == "--port") && i + 1 < argc) {
      if (arg == "--host") host = argv[++i];
      else port = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: http_hello_server [--host 127.0.0.1] [--port 0]\n");
      return 2;
    }
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "http_hello_server: bad port %ld\n", port);
    return 2;
  }
  try {
    aio::run(run(host, static_cast<std::uint16_t>(port)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_hello_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
