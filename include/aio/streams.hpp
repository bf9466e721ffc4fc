// aio/streams.hpp — TCP and Unix-socket streams (asyncio's streams.py):
// open_connection, start_server, stream_reader, stream_writer; and waiting on
// raw descriptors (wait_readable / wait_writable, asyncio's loop.add_reader),
// for driving non-blocking C libraries such as libpq from the loop.
//
// Writes never raise SIGPIPE; a peer reset is an error (ECONNRESET), not EOF.
// Connection errors are std::system_error naming the host and port.
// Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/io_wait.hpp>
#include <aio/detail/stream_transport.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio {

/// asyncio.IncompleteReadError: the stream ended before readexactly / readuntil
/// had what it needed. `partial` holds what was read (and is consumed).
class incomplete_read_error : public std::runtime_error {
 public:
  incomplete_read_error(std::string partial_bytes, std::size_t expected_bytes);
  std::string partial;
  std::size_t expected;  // 0 when unknown (readuntil)
};

/// asyncio.LimitOverrunError: readuntil / readline found no separator within
/// the reader's limit. The data stays in the buffer; `consumed` is how much.
class limit_overrun_error : public std::runtime_error {
 public:
  limit_overrun_error(const std::string& message, std::size_t consumed_bytes)
      : std::runtime_error(message), consumed(consumed_bytes) {}
  std::size_t consumed;
};

/// A socket address: IPv4, IPv6 or a Unix-socket path (port 0).
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  /// "127.0.0.1:8080", "[::1]:8080", or the path.
  [[nodiscard]] std::string to_string() const;
};

/// asyncio.StreamReader: reads from a connection through a buffer.
/// Only one coroutine may wait on a reader at a time (invalid_state_error).
/// Cancellation (every read): the read gives up; bytes already received stay
/// buffered for the next read, in order.
class stream_reader {
 public:
  stream_reader() noexcept = default;
  explicit stream_reader(detail::transport_ref t) noexcept : t_(std::move(t)) {}

  /// Up to `n` bytes (fewer if that is what arrived); "" at end of stream.
  /// n < 0 reads until end of stream.
  [[nodiscard]] task<std::string> read(std::ptrdiff_t n = -1);
  /// Exactly `n` bytes; at end of stream first, incomplete_read_error.
  [[nodiscard]] task<std::string> readexactly(std::size_t n);
  /// One line, '\n' included; at end of stream, what is left (maybe "").
  [[nodiscard]] task<std::string> readline();
  /// Up to and including `separator`. Throws incomplete_read_error at end of
  /// stream, limit_overrun_error when no separator is within the limit.
  [[nodiscard]] task<std::string> readuntil(std::string separator = "\n");
  /// True when the buffer is empty and the peer closed its side.
  [[nodiscard]] bool at_eof() const noexcept { return t_->at_eof(); }

 private:
  detail::transport_ref t_;
};

/// asyncio.StreamWriter: writes to a connection through a buffer.
class stream_writer {
 public:
  stream_writer() noexcept = default;
  explicit stream_writer(detail::transport_ref t) noexcept : t_(std::move(t)) {}

  /// Sends at once if possible, buffers the rest (never blocks, never suspends).
  /// Throws std::system_error if the connection already failed, and
  /// invalid_state_error after close().
  void write(std::string_view data) { t_->write(data); }
  /// Waits until the buffer is small again (back-pressure: above the high-water
  /// mark, down to the low-water mark). Throws std::system_error if the
  /// connection failed (e.g. ECONNRESET, EPIPE).
  /// Cancellation: gives up waiting; buffered data is still sent.
  [[nodiscard]] task<void> drain();
  /// Closes after the buffered data is sent (the reader sees end of stream).
  void close() { t_->close(); }
  /// Waits until the connection is closed.
  [[nodiscard]] task<void> wait_closed();
  [[nodiscard]] bool is_closing() const noexcept { return t_->is_closing(); }
  /// Half-close: the peer reads end of stream; we can still read.
  void write_eof() { t_->write_eof(); }
  [[nodiscard]] bool can_write_eof() const noexcept { return true; }
  /// Bytes accepted by write() and not yet sent.
  [[nodiscard]] std::size_t buffer_size() const noexcept { return t_->write_buffer_size(); }
  /// transport.set_write_buffer_limits(high, low); defaults 64 KiB / 16 KiB.
  void set_write_buffer_limits(std::size_t high, std::size_t low) noexcept { t_->set_write_buffer_limits(high, low); }

  /// get_extra_info("peername") / ("sockname"), typed.
  [[nodiscard]] endpoint peername() const;
  [[nodiscard]] endpoint sockname() const;
  /// get_extra_info by asyncio's names: "peername", "sockname" (as strings), "socket" (the fd).
  [[nodiscard]] std::string get_extra_info(std::string_view name) const;
  [[nodiscard]] int fd() const noexcept { return t_->fd(); }

 private:
  detail::transport_ref t_;
};

/// asyncio.open_connection(host, port): connects over TCP (IPv4 or IPv6; names
/// resolved on the thread pool, numeric addresses directly).
/// Cancellation: the connection attempt is abandoned and the socket closed.
/// Throws: std::system_error naming host and port (refused, unreachable,
/// unknown host). Compose with wait_for for a connect timeout.
/// Example: examples/17_echo_server.cpp
[[nodiscard]] task<std::pair<stream_reader, stream_writer>> open_connection(
    std::string host, std::uint16_t port, std::size_t limit = detail::stream_transport::default_limit);
/// asyncio.open_unix_connection(path).
[[nodiscard]] task<std::pair<stream_reader, stream_writer>> open_unix_connection(
    std::string path, std::size_t limit = detail::stream_transport::default_limit);

/// What start_server calls for each connection (as a task of its own).
using connection_handler = std::function<task<void>(stream_reader, stream_writer)>;

namespace detail {
struct server_state;
}

/// asyncio.Server: the listening sockets of start_server.
class server {
 public:
  server() noexcept = default;
  explicit server(std::shared_ptr<detail::server_state> s) noexcept : s_(std::move(s)) {}

  /// The bound port (of the first socket): useful after binding port 0.
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::vector<endpoint> sockets() const;
  [[nodiscard]] bool is_serving() const noexcept;
  /// Stops listening: closes the listening sockets. Connections go on.
  void close();
  /// Waits until closed and every connection handler has finished (3.12+).
  [[nodiscard]] task<void> wait_closed();
  /// Serves until cancelled (or closed); on cancellation the server closes.
  [[nodiscard]] task<void> serve_forever();

 private:
  std::shared_ptr<detail::server_state> s_;
};

/// asyncio.start_server(handler, host, port, backlog): listens on host:port
/// (host "" means every interface; port 0 picks a free one) and calls
/// `handler(reader, writer)` as a new task for each connection. Returns once
/// listening. Handler exceptions are reported on stderr, as asyncio logs them.
/// Throws: std::system_error naming host and port (e.g. address in use).
/// Example: examples/17_echo_server.cpp
[[nodiscard]] task<server> start_server(connection_handler handler, std::string host, std::uint16_t port,
                                        int backlog = 100,
                                        std::size_t limit = detail::stream_transport::default_limit);
/// asyncio.start_unix_server(handler, path): a stale socket file at `path` is replaced.
[[nodiscard]] task<server> start_unix_server(connection_handler handler, std::string path, int backlog = 100,
                                             std::size_t limit = detail::stream_transport::default_limit);

/// Waits until `fd` — a descriptor aio does not own, in non-blocking mode — is
/// readable (asyncio's loop.add_reader, as an awaitable): how to drive libpq,
/// c-ares or curl from the loop. Closing and reopening the number is safe.
/// Cancellation: stops waiting.
[[nodiscard]] detail::io_wait_operation wait_readable(int fd);
/// The same for writability (loop.add_writer).
[[nodiscard]] detail::io_wait_operation wait_writable(int fd);

}  // namespace aio
