// aio/http/message.hpp — HTTP/1.1 messages: headers, request, response, the
// errors that carry a status code, and incremental request / response parsers
// (what h11 or llhttp are to Python and Node).
//
// The parsers are push parsers: feed() them bytes as they arrive from a
// stream_reader; each call consumes what belongs to the current message and
// stops at its end, so the bytes left over (a pipelined request) start the next
// one. Malformed input throws http_error with the status a server answers:
//   400  malformed request line, header or chunk framing; a bare CR; an
//        obs-fold (a header line starting with whitespace); a header value
//        with control characters (header injection); a bad, repeated or
//        conflicting Content-Length; both Content-Length and Transfer-Encoding;
//        HTTP/1.1 without Host; a message cut short;
//   413  a body larger than limits::max_body_bytes (told by Content-Length
//        before any of it is read, or counted chunk by chunk);
//   431  a request line and headers larger than limits::max_head_bytes, or
//        more than limits::max_header_count headers;
//   501  a Transfer-Encoding other than chunked;
//   505  an HTTP version other than 1.x.
//
// Plain values: no I/O here, nothing loop-affine.
#pragma once

#include <aio/generator.hpp>
#include <aio/http/json.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::http {

/// An HTTP error status with a human-readable detail. Thrown by the parsers for
/// malformed input, and by handlers to answer with that status (FastAPI's
/// HTTPException): the server replies `{"detail": detail}` with `status`.
class http_error : public std::runtime_error {
 public:
  http_error(int status, std::string detail);
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  int status_;
  std::string detail_;
};

/// The standard reason phrase of a status ("Not Found"), or "" if unknown.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

/// ASCII case-insensitive comparison, as header names compare.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
/// True if the comma-separated `list` (a Connection header, say) holds `token`,
/// compared case-insensitively.
[[nodiscard]] bool has_token(std::string_view list, std::string_view token) noexcept;

/// Header fields in the order received: names compare case-insensitively,
/// repeats are kept (Set-Cookie).
class headers {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  headers() = default;
  headers(std::initializer_list<value_type> fields) : fields_(fields) {}

  /// The first value of `name`, or nullopt.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// The first value of `name`, or `fallback`.
  [[nodiscard]] std::string get(std::string_view name, std::string_view fallback) const;
  /// Every value of `name`, in order.
  [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  /// Appends a field (keeps existing ones of that name).
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  /// Replaces every field of that name with one.
  void set(std::string name, std::string value);
  /// Removes every field of that name; returns how many.
  std::size_t erase(std::string_view name) noexcept;
  void clear() noexcept { fields_.clear(); }

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] const_iterator begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] const_iterator end() const noexcept { return fields_.end(); }

 private:
  std::vector<value_type> fields_;
};

/// Sizes a parser accepts; past them it throws http_error (431 or 413).
struct limits {
  std::size_t max_head_bytes = 16 * 1024;       // start line + headers (+ chunked trailers) → 431
  std::size_t max_header_count = 100;           // → 431
  std::size_t max_body_bytes = 1024 * 1024;     // → 413
};

/// FastAPI's BackgroundTasks: work to run after the response has been sent.
/// A handler adds to it through request::background(), or by taking a
/// `background_tasks&` parameter. The server runs them in order, one after the
/// other, as tasks of their own; graceful shutdown waits for them.
class background_tasks {
 public:
  void add_task(task<void> t) { tasks_.push_back(std::move(t)); }
  [[nodiscard]] bool empty() const noexcept { return tasks_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size(); }
  /// Hands the tasks over (the server does this after the response is sent).
  std::vector<task<void>> take() noexcept { return std::move(tasks_); }

 private:
  std::vector<task<void>> tasks_;
};

/// An HTTP request: what the server's handlers receive, parsed and complete
/// (body included).
class request {
 public:
  std::string method;         // "GET"
  std::string target;         // as sent: "/users/7?verbose=1"
  std::string path;           // "/users/7" (still percent-encoded)
  std::string query;          // "verbose=1" (still percent-encoded)
  int version_minor = 1;      // HTTP/1.<version_minor>
  http::headers headers;
  std::string body;

  /// Whether the connection stays open after this request: HTTP/1.1 unless
  /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
  [[nodiscard]] bool keep_alive() const noexcept;
  /// A query parameter, percent-decoded ('+' is a space); nullopt if absent.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
  /// A path parameter of the matched route ("{id}" in "/users/{id}"),
  /// percent-decoded. Throws std::out_of_range naming the parameter if the
  /// route has none of that name.
  [[nodiscard]] const std::string& path_param(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& path_params() const noexcept {
    return path_params_;
  }
  void set_path_params(std::vector<std::pair<std::string, std::string>> params) { path_params_ = std::move(params); }
  /// The body parsed as JSON. Throws http_error(422, "JSON decode error: ...")
  /// if it is not JSON, as FastAPI answers.
  [[nodiscard]] http::json json() const;
  /// Schedules `t` to run after the response has been sent (FastAPI's
  /// background_tasks.add_task).
  void background(task<void> t) { background_.add_task(std::move(t)); }
  [[nodiscard]] http::background_tasks& background_tasks() noexcept { return background_; }

 private:
  friend class request_parser;
  /// Back to a default-constructed request, without building one.
  void clear() noexcept;

  std::vector<std::pair<std::string, std::string>> path_params_;
  http::background_tasks background_;
};

/// The body of a streaming response: each piece it yields is sent as it comes.
using body_generator = async_generator<std::string>;

/// An HTTP response, as a handler returns it. The server adds Content-Length,
/// Date, Server and Connection.
///
/// A streaming response (response::stream, FastAPI's StreamingResponse) has a
/// body_stream instead of a body: the server sends the head once the
/// generator's first non-empty piece is in, then each non-empty piece as a
/// chunk of `Transfer-Encoding: chunked` (HTTP/1.1), waiting for the client to
/// take each before asking for the next (back-pressure); to an HTTP/1.0
/// client the body is not framed and the connection closes after it. HEAD
/// (and 204 / 304) get the head only, and the generator is never run.
/// If the generator throws before its first piece, the client gets the error
/// response a handler's exception gets (500, or an http_error's status); if it
/// throws later, the error is logged and the connection closed without the
/// last chunk, so the client sees a truncated body. If the client goes away
/// (a failed write), the request times out or the server is forced to stop,
/// the generator is closed (aclose: its cleanup runs).
class response {
 public:
  int status = 200;
  std::string reason;  // empty: the standard phrase
  http::headers headers;
  std::string body;
  /// Set by response::stream(): the body, piece by piece (`body` is unused).
  /// Shared, so that responses stay copyable; a generator runs once.
  std::shared_ptr<body_generator> body_stream;

  response() = default;
  explicit response(int status_code) : status(status_code) {}
  response(int status_code, std::string body_text, std::string content_type = "text/plain; charset=utf-8");

  /// A text/plain response.
  [[nodiscard]] static response text(std::string body_text, int status_code = 200);
  /// An application/json response: `value` serialized.
  [[nodiscard]] static response json(const http::json& value, int status_code = 200);
  /// An HTML response.
  [[nodiscard]] static response html(std::string body_text, int status_code = 200);
  /// A streaming response (FastAPI's StreamingResponse(content, media_type=...)):
  /// the body is what `body` yields, sent chunk by chunk as it comes (see above).
  ///
  ///   aio::http::body_generator numbers(int n) {
  ///     for (int i = 1; i <= n; ++i) co_yield std::to_string(i) + "\n";
  ///   }
  ///   co_return aio::http::response::stream(numbers(3), "text/plain");
  [[nodiscard]] static response stream(body_generator body, std::string content_type = "text/plain; charset=utf-8",
                                       int status_code = 200);
  /// True for a response made by stream().
  [[nodiscard]] bool streaming() const noexcept { return body_stream != nullptr; }
};

namespace detail {
/// What both parsers share: head accumulation, header validation, body framing.
class message_parser {
 public:
  virtual ~message_parser() = default;
  message_parser(const message_parser&) = default;
  message_parser& operator=(const message_parser&) = default;
  message_parser(message_parser&&) noexcept = default;
  message_parser& operator=(message_parser&&) noexcept = default;

  [[nodiscard]] bool head_complete() const noexcept { return state_ >= state::body; }
  [[nodiscard]] bool complete() const noexcept { return state_ == state::done; }
  /// True once a byte of this message arrived (empty lines before a request
  /// do not count).
  [[nodiscard]] bool started() const noexcept { return started_; }
  /// Body bytes received so far.
  [[nodiscard]] const std::string& body() const noexcept { return body_; }

 protected:
  enum class state : std::uint8_t { head, body, done };
  enum class framing : std::uint8_t { none, length, chunked, until_close };
  enum class chunk_state : std::uint8_t { size_line, data, data_crlf, trailer };

  explicit message_parser(limits l) noexcept : limits_(l) {}
  /// Feeds the head; returns bytes consumed, and parses the head (through
  /// on_head) when its end was found.
  std::size_t feed_head(std::string_view data);
  std::size_t feed_body(std::string_view data);
  void reset_message() noexcept;
  /// Parses header lines [first, end) of the head into `out`.
  void parse_fields(std::string_view lines, http::headers& out, bool trailers);
  /// Decides framing from the headers (requests: strict).
  void frame_request(const http::headers& h, int version_minor);
  void frame_response(const http::headers& h, int status, bool head_request);
  virtual void on_head(std::string_view head) = 0;

  limits limits_;
  state state_ = state::head;
  framing framing_ = framing::none;
  chunk_state chunk_ = chunk_state::size_line;
  bool started_ = false;
  bool close_delimited_ = false;
  std::uint64_t remaining_ = 0;  // of the body (length) or of the chunk (chunked)
  std::string head_buf_;
  std::string line_buf_;  // chunk-size line or trailer section
  std::string body_;
  std::size_t trailer_count_ = 0;
  std::size_t blank_bytes_ = 0;  // empty lines skipped before the start line
};
}  // namespace detail

/// Parses requests, one after the other, from the bytes of a connection.
///
///   aio::http::request_parser p;
///   std::size_t used = p.feed(bytes);   // call again with more bytes until complete()
///   if (p.complete()) { request r = p.take(); /* bytes.substr(used) start the next */ }
///
/// Throws http_error (see the top of this file) on malformed input; the parser
/// is then unusable until reset().
class request_parser : public detail::message_parser {
 public:
  explicit request_parser(limits l = {}) noexcept : message_parser(l) {}

  /// Consumes bytes of the current request from `data` and returns how many;
  /// stops at the end of the request. Returns 0 once complete().
  std::size_t feed(std::string_view data);
  /// Call at end of stream: throws http_error(400) if a request was cut short.
  void finish() const;
  /// The request line and headers are in and the client sent `Expect:
  /// 100-continue`: the server should send "100 Continue" before the body.
  [[nodiscard]] bool expects_continue() const noexcept { return expect_continue_; }
  /// The request being parsed (its head is valid once head_complete()).
  [[nodiscard]] request& get() noexcept { return request_; }
  /// Takes the complete request and resets for the next one.
  request take();
  /// Forgets the current request.
  void reset() noexcept;

 private:
  void on_head(std::string_view head) override;
  request request_;
  bool expect_continue_ = false;
};

/// The head of a response (status line and headers) and its body.
struct response_head {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  http::headers headers;
};

/// Parses responses from the bytes of a connection (the client's side).
/// Knows, as RFC 9112 says, that responses to HEAD and 1xx/204/304 responses
/// have no body, and that a response with neither Content-Length nor chunked
/// encoding ends when the connection closes (finish()).
class response_parser : public detail::message_parser {
 public:
  explicit response_parser(limits l = {}) noexcept : message_parser(l) {}

  /// Tells the parser the request was HEAD (the response has no body).
  void set_head_request(bool head) noexcept { head_request_ = head; }
  std::size_t feed(std::string_view data);
  /// Call at end of stream: completes a body that ends with the connection;
  /// throws http_error(400, "...cut short...") for any other unfinished message.
  void finish();
  [[nodiscard]] const response_head& head() const noexcept { return head_; }
  /// Whether the connection can carry another request after this response.
  [[nodiscard]] bool keep_alive() const noexcept;
  /// Takes the body received (the parser keeps the head).
  std::string take_body() noexcept { return std::move(body_); }
  void reset() noexcept;

 private:
  void on_head(std::string_view head) override;
  response_head head_;
  bool head_request_ = false;
};

/// Serializes a response to `out` (status line, headers, body), adding
/// Content-Length (computed), Connection when it is not the version's default,
/// and leaving the body out for HEAD. `extra` is raw header lines the server
/// adds (Date, Server), each ending in CRLF.
/// A streaming response (r.body_stream set) gets its head only, with
/// `Transfer-Encoding: chunked` for HTTP/1.1 (its chunks follow with
/// write_chunk and write_last_chunk) and no framing for HTTP/1.0 (the body
/// ends with the connection, so `Connection: close` whatever keep_alive says,
/// except for HEAD, 204 and 304, which have no body).
/// Throws http_error(500) if a header name or value could inject a header
/// (CR, LF, NUL) or the status is out of range.
void write_response(std::string& out, const response& r, int version_minor, bool keep_alive, bool head_request,
                    std::string_view extra = {});

/// Appends one chunk of a chunked body to `out`: the size in hex, CRLF, the
/// data, CRLF. Appends nothing for empty `data` (a chunk of size 0 ends the
/// body: that is write_last_chunk).
void write_chunk(std::string& out, std::string_view data);
/// Appends the end of a chunked body: the last chunk and no trailers, "0\r\n\r\n".
void write_last_chunk(std::string& out);

/// Percent-decodes `s` ("%2F" → "/"); with `plus_as_space`, '+' becomes ' '
/// (query strings). Invalid escapes are kept as they are.
[[nodiscard]] std::string percent_decode(std::string_view s, bool plus_as_space = false);

}  // namespace aio::http
