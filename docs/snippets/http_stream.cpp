// docs/reference/http.md: streaming responses (FastAPI's StreamingResponse),
// seen on the wire, by aio's client and by an HTTP/1.0 client.
#include <aio/event_loop.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <aio/streams.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
namespace http = aio::http;

/// CR and LF made visible, one header line per output line.
std::string visible(std::string_view bytes) {
  std::string out;
  for (const char ch : bytes) {
    if (ch == '\r') out += "\\r";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
  return out;
}

/// Prints the head without its Date and Server lines, then the body's bytes.
void print_wire(const std::string& wire) {
  const std::size_t end = wire.find("\r\n\r\n");
  std::string_view head = std::string_view(wire).substr(0, end + 2);
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    if (!line.starts_with("Date:") && !line.starts_with("Server:"))
      std::printf("  %.*s\n", static_cast<int>(line.size()), line.data());
    head.remove_prefix(eol + 2);
  }
  std::printf("  body: %s\n", visible(std::string_view(wire).substr(end + 4)).c_str());
}

// [stream]
http::body_generator countdown(int from) {
  for (int i = from; i > 0; --i) {
    co_await aio::sleep(10ms);  // each piece goes out as soon as it is yielded
    co_yield std::to_string(i) + "...\n";
  }
  co_yield "liftoff\n";
}

aio::task<http::response> launch(http::request& req) {
  const int from = std::stoi(req.query_param("from").value_or("3"));
  co_return http::response::stream(countdown(from), "text/plain");
}
// [/stream]

aio::task<std::string> raw_get(std::uint16_t port, std::string request) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write(request);
  std::string wire = co_await reader.read();  // until the server closes
  writer.close();
  co_return wire;
}

// [client]
aio::task<void> main_task() {
  http::app app;
  app.get("/launch", launch);
  http::server srv = co_await http::start_server(app, "127.0.0.1", 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

  // aio's client (or curl, or a browser) decodes the chunks.
  http::client_session session;
  http::client_response r = co_await session.get(base + "/launch?from=3");
  std::printf("%d %s: %s\n", r.status, r.headers.get("transfer-encoding", "?").c_str(),
              visible(co_await r.text()).c_str());

  // On the wire: one chunk per piece (size in hex), then the last chunk.
  std::puts("HTTP/1.1:");
  print_wire(co_await raw_get(srv.port(), "GET /launch?from=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  // HTTP/1.0 has no chunks: the body ends when the connection closes.
  std::puts("HTTP/1.0:");
  print_wire(co_await raw_get(srv.port(), "GET /launch?from=2 HTTP/1.0\r\n\r\n"));

  srv.shutdown();
  co_await srv.wait_closed();
}
// [/client]

int main() { aio::run(main_task()); }
