// docs/reference/http.md: a server on a free port and a client_session talking to it.
#include <aio/event_loop.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
namespace http = aio::http;

aio::task<http::json> hello(http::request& req) {
  co_return http::json::object{{"hello", req.query_param("name").value_or("world")}};
}

aio::task<http::response> slow(http::request&) {
  co_await aio::sleep(1s);  // graceful shutdown at the end waits for it
  co_return http::response::text("late");
}

// [client]
aio::task<void> main_task() {
  http::app app;
  app.get("/hello", hello);
  app.get("/slow", slow);
  http::server srv = co_await http::start_server(app, "127.0.0.1", 0);  // port 0: a free port
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

  http::client_session session;
  for (const char* name : {"Ada", "Alan"}) {
    http::client_response r = co_await session.get(base + "/hello?name=" + name);
    http::json body = co_await r.json();
    std::printf("%d %s %s\n", r.status, r.headers.get("content-type", "?").c_str(), body.dump().c_str());
  }
  std::printf("connections opened: %zu (keep-alive reuses one)\n", session.connections_opened());

  http::client_response missing = co_await session.get(base + "/missing");
  std::printf("%d %s\n", missing.status, (co_await missing.text()).c_str());
  try {
    missing.raise_for_status();
  } catch (const http::response_status_error& e) {
    std::printf("response_status_error: status %d\n", e.status);
  }

  try {
    co_await aio::wait_for(session.get(base + "/slow"), 100ms);
  } catch (const aio::timeout_error&) {
    std::puts("timeout_error: the request's connection is closed, not pooled");
  }
  try {
    co_await session.get("https://example.com/");
  } catch (const http::invalid_url_error& e) {
    std::printf("invalid_url_error: %s\n", e.what());
  }

  srv.shutdown();  // graceful: what SIGINT does under http::serve
  co_await srv.wait_closed();
}
// [/client]

int main() { aio::run(main_task()); }
