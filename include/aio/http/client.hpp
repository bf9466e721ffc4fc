// aio/http/client.hpp — an HTTP/1.1 client shaped like aiohttp's ClientSession:
// a session keeps connections open per host and reuses them (keep-alive), up
// to a total limit and an optional limit per host.
//
//   aio::http::client_session session;
//   aio::http::client_response resp = co_await session.get("http://127.0.0.1:8000/users");
//   std::string body = co_await resp.text();
//
// Plain HTTP only: an https:// URL throws invalid_url_error saying TLS is not
// supported (never a silent downgrade to plain text).
//
// Timeouts compose: `co_await aio::wait_for(session.get(url), 2s)`; a request
// cancelled half-way closes its connection rather than return it to the pool.
// A request that fails on a reused keep-alive connection before any byte of
// the response arrived (the server closed it meanwhile) is retried once on a
// new connection if its method is idempotent, as aiohttp and urllib3 do.
//
// The session and its responses are loop-affine, not thread-safe; destroy them
// on the loop's thread before the loop closes.
#pragma once

#include <aio/http/json.hpp>
#include <aio/http/message.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aio::http {

/// aiohttp.InvalidURL: not an http:// URL the client can use (including
/// https://, since TLS is not supported).
class invalid_url_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// aiohttp.ClientError: the server's answer was not a valid HTTP response, or
/// the server closed the connection before answering (ServerDisconnectedError).
class client_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// aiohttp.ClientResponseError, from raise_for_status().
class response_status_error : public client_error {
 public:
  response_status_error(int status_code, const std::string& reason, const std::string& url);
  int status;
};

/// A parsed http:// URL.
struct url {
  std::string host;        // "example.com", "127.0.0.1", "::1" (no brackets)
  std::uint16_t port = 80;
  std::string target;      // "/path?query" (at least "/")

  /// Parses "http://host[:port][/path][?query]"; the fragment is dropped.
  /// Throws invalid_url_error (https://: "TLS is not supported").
  [[nodiscard]] static url parse(std::string_view text);
  /// The Host header: "host", "host:port", "[::1]:port".
  [[nodiscard]] std::string authority() const;
};

struct client_options {
  /// aiohttp's TCPConnector(limit=100): connections open at once, in use or
  /// idle in the pool. 0: no limit.
  std::size_t limit = 100;
  /// TCPConnector(limit_per_host=0): per host and port; 0: no limit.
  std::size_t limit_per_host = 0;
  /// An idle pooled connection older than this is closed, not reused.
  std::chrono::nanoseconds keep_alive_timeout = std::chrono::seconds(15);
  /// Sizes accepted in responses (head → client_error, body → client_error).
  http::limits limits{64 * 1024, 256, 64 * 1024 * 1024};
  /// Sent with every request unless the request sets it.
  std::string user_agent = "aio-http/0.1";
};

namespace detail {
struct session_state;
struct response_stream;
}  // namespace detail

/// aiohttp.ClientResponse: the status line and headers are in; the body is
/// read by text() / bytes() / json(), after which the connection goes back to
/// the pool. A response dropped with its body unread closes its connection.
class client_response {
 public:
  client_response() noexcept;
  client_response(client_response&&) noexcept;
  client_response& operator=(client_response&&) noexcept;
  ~client_response();

  int status = 0;
  std::string reason;
  int version_minor = 1;
  http::headers headers;
  std::string url;
  std::string method;

  [[nodiscard]] bool ok() const noexcept { return status < 400; }
  /// Throws response_status_error for a status >= 400.
  void raise_for_status() const;

  /// The whole body (read once, then kept: later calls return it again).
  /// Resumes: when the body is in. Cancellation: the connection is closed.
  /// Throws: client_error if the body is malformed, too large or cut short.
  [[nodiscard]] task<std::string> text();
  /// The body's bytes (aiohttp's read()); the same as text() in C++.
  [[nodiscard]] task<std::string> bytes();
  /// The body parsed as JSON (json_parse_error if it is not).
  [[nodiscard]] task<http::json> json();
  /// Gives the connection up now: back to the pool if the body was read,
  /// closed otherwise.
  void release() noexcept;

 private:
  friend struct detail::session_state;
  std::unique_ptr<detail::response_stream> stream_;
  std::optional<std::string> body_;
};

/// aiohttp.ClientSession.
class client_session {
 public:
  explicit client_session(client_options options = {});
  client_session(const client_session&) = delete;
  client_session& operator=(const client_session&) = delete;
  /// Closes the pooled connections (responses still held keep theirs).
  ~client_session();

  /// Sends `method url` with `body` and `extra` headers and returns the
  /// response once its head is in. Adds Host, User-Agent, Accept and
  /// Content-Length (unless given).
  /// Resumes: when the response's status line and headers have arrived.
  /// Cancellation: the connection is closed (not pooled), the permit returned.
  /// Throws: invalid_url_error; std::system_error naming host and port
  /// (refused, unreachable); client_error (invalid response, server closed the
  /// connection); value_error for a header name or value with CR/LF (header
  /// injection); invalid_state_error after close().
  [[nodiscard]] task<client_response> request(std::string method, std::string url, std::string body = {},
                                              http::headers extra = {});
  [[nodiscard]] task<client_response> get(std::string url, http::headers extra = {});
  [[nodiscard]] task<client_response> post(std::string url, std::string body, http::headers extra = {});
  [[nodiscard]] task<client_response> put(std::string url, std::string body, http::headers extra = {});
  [[nodiscard]] task<client_response> delete_(std::string url, http::headers extra = {});
  [[nodiscard]] task<client_response> head(std::string url, http::headers extra = {});

  /// Closes the idle pooled connections and refuses further requests.
  void close() noexcept;
  [[nodiscard]] bool closed() const noexcept;
  /// Connections open now (in use and idle).
  [[nodiscard]] std::size_t open_connections() const noexcept;
  /// Idle connections in the pool.
  [[nodiscard]] std::size_t idle_connections() const noexcept;
  /// Connections this session has opened so far (to see reuse at work).
  [[nodiscard]] std::size_t connections_opened() const noexcept;

 private:
  std::shared_ptr<detail::session_state> s_;
};

}  // namespace aio::http
