// docs/reference/streams.md: start_server, open_connection, readers and writers.
#include <aio/event_loop.hpp>
#include <aio/streams.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

// [server]
aio::task<void> handle_echo(aio::stream_reader reader, aio::stream_writer writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;  // end of stream: the client closed its side
    writer.write("echo: " + line);
    co_await writer.drain();  // back-pressure
  }
  writer.close();
  co_await writer.wait_closed();
}
// [/server]

// [client]
aio::task<void> client(std::uint16_t port) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write("hello\nworld\n");
  std::printf("%s", (co_await reader.readline()).c_str());
  std::printf("%s", (co_await reader.readuntil("\n")).c_str());
  writer.write_eof();  // half-close: the server reads end of stream
  std::string rest = co_await reader.read();  // to the end of stream
  std::printf("rest: \"%s\", at_eof() = %d\n", rest.c_str(), reader.at_eof());
  try {
    co_await reader.readexactly(4);
  } catch (const aio::incomplete_read_error& e) {
    std::printf("incomplete_read_error: %zu of %zu bytes\n", e.partial.size(), e.expected);
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::task<void> echo_demo() {
  aio::server srv = co_await aio::start_server(handle_echo, "127.0.0.1", 0);  // port 0: any free port
  std::printf("serving: %d\n", srv.is_serving());
  co_await client(srv.port());
  srv.close();
  co_await srv.wait_closed();  // listening stopped and every handler finished
  std::printf("serving: %d\n", srv.is_serving());
}
// [/client]

// [refused]
aio::task<void> refused(std::uint16_t port) {
  try {
    co_await aio::open_connection("127.0.0.1", port);
  } catch (const std::system_error& e) {
    std::printf("refused: %s\n", e.code() == std::errc::connection_refused ? "ECONNREFUSED" : e.what());
  }
}
// [/refused]

aio::task<std::uint16_t> free_port() {
  aio::server srv = co_await aio::start_server(handle_echo, "127.0.0.1", 0);
  std::uint16_t port = srv.port();
  srv.close();
  co_await srv.wait_closed();
  co_return port;
}

int main() {
  aio::run(echo_demo());
  aio::run(refused(aio::run(free_port())));
}
