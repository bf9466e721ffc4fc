// 17 — An echo server and its clients (asyncio streams: start_server,
// open_connection).
//
// The server listens on 127.0.0.1, port 0 (the kernel picks a free port),
// and answers each line with the same line. Three clients connect one after
// the other, 100 ms apart, each sending a message and reading the echo. Then
// the server is stopped the way a real one is: serve_forever is cancelled,
// which closes the listening socket, and wait_closed waits until every
// connection handler has finished.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/streams.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

/// Strips the trailing newline, for printing.
std::string chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The connection handler: one task per connection, like asyncio's
// `async def handle_echo(reader, writer)`.
aio::task<void> handle_echo(aio::stream_reader reader, aio::stream_writer writer) {
  const std::string peer = writer.get_extra_info("peername");  // "127.0.0.1:<the client's port>"
  std::string message = co_await reader.readline();
  std::printf("[server] received \"%s\" from %s\n", chomp(message).c_str(), peer.c_str());
  writer.write(message);
  co_await writer.drain();  // back-pressure: wait while the send buffer is full
  std::printf("[server] sent it back, closing the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

aio::task<void> echo_client(std::uint16_t port, std::string message, int id) {
  co_await aio::sleep(id * 100ms);  // one after the other, so the output reads in order
  auto connecting = aio::open_connection("127.0.0.1", port);
  auto [reader, writer] = co_await std::move(connecting);
  std::printf("[client %d] send: \"%s\"\n", id, message.c_str());
  writer.write(message + "\n");
  std::string reply = co_await reader.readline();
  std::printf("[client %d] received: \"%s\"\n", id, chomp(reply).c_str());
  writer.close();
  co_await writer.wait_closed();
}

aio::task<void> async_main() {
  auto starting = aio::start_server(handle_echo, "127.0.0.1", 0);
  aio::server server = co_await std::move(starting);
  std::printf("Serving on %s\n", server.sockets().front().to_string().c_str());
  aio::future<void> serving = aio::create_task(server.serve_forever());

  std::vector<aio::task<void>> clients;
  clients.push_back(echo_client(server.port(), "Hello, World!", 1));
  clients.push_back(echo_client(server.port(), "asyncio, in C++", 2));
  clients.push_back(echo_client(server.port(), "Goodbye", 3));
  auto all = aio::gather(std::move(clients));
  co_await std::move(all);

  // Ctrl-C in a real server (see loop.add_signal_handler): stop serving.
  serving.cancel();
  try {
    co_await serving;
  } catch (const aio::cancelled_error&) {
    std::printf("serve_forever cancelled: the server is %s\n", server.is_serving() ? "still serving" : "closed");
  }
  co_await server.wait_closed();
  std::printf("All connections finished; server closed\n");
}

int main() { aio::run(async_main()); }
