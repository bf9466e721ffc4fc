// The HTTP client: a session's pool of keep-alive connections (aiohttp's
// TCPConnector) and the request / response exchange on one connection.
//
// Counting: `total` and the per-host semaphores count connections in use (a
// request holds a permit from before it connects until its response body is
// read). Idle pooled connections are counted in `open` too, and when a new
// connection would pass `limit`, the oldest idle one (of any host) is closed
// first, so the sockets open never exceed the limit.
#include <aio/http/client.hpp>

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/locks.hpp>
#include <aio/streams.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <deque>
#include <system_error>
#include <unordered_map>

namespace aio::http {

response_status_error::response_status_error(int status_code, const std::string& reason, const std::string& url)
    : client_error("aio::http: " + std::to_string(status_code) + " " + reason + " for " + url), status(status_code) {}

// --- url -----------------------------------------------------------------------

url url::parse(std::string_view text) {
  const std::string shown(text.substr(0, 200));
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos)
    throw invalid_url_error("aio::http: \"" + shown + "\" is not an absolute http:// URL");
  const std::string_view scheme = text.substr(0, colon);
  if (iequals(scheme, "https"))
    throw invalid_url_error("aio::http: \"" + shown +
                            "\": TLS is not supported (aio::http speaks plain HTTP only; use http://, or put a "
                            "TLS-terminating proxy in front)");
  if (!iequals(scheme, "http"))
    throw invalid_url_error("aio::http: unsupported scheme \"" + std::string(scheme) + "\" in \"" + shown +
                            "\" (only http://)");
  std::string_view rest = text.substr(colon + 3);
  const std::size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  if (authority.find('@') != std::string_view::npos)
    throw invalid_url_error("aio::http: credentials in the URL are not supported: \"" + shown + "\"");
  url u;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw invalid_url_error("aio::http: unterminated IPv6 address in \"" + shown + "\"");
    u.host.assign(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw invalid_url_error("aio::http: junk after the IPv6 address in \"" + shown + "\"");
      port_text = after.substr(1);
      if (port_text.empty()) throw invalid_url_error("aio::http: empty port in \"" + shown + "\"");
    }
  } else {
    const std::size_t c = authority.rfind(':');
    u.host.assign(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port_text = authority.substr(c + 1);
      if (port_text.empty()) throw invalid_url_error("aio::http: empty port in \"" + shown + "\"");
    }
  }
  if (u.host.empty()) throw invalid_url_error("aio::http: no host in \"" + shown + "\"");
  for (const char ch : u.host) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || ch == '/' || ch == '\\') throw invalid_url_error("aio::http: invalid host in \"" + shown + "\"");
  }
  if (!port_text.empty()) {
    unsigned p = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (r.ec != std::errc{} || r.ptr != port_text.data() + port_text.size() || p == 0 || p > 65535)
      throw invalid_url_error("aio::http: invalid port \"" + std::string(port_text) + "\" in \"" + shown + "\"");
    u.port = static_cast<std::uint16_t>(p);
  }
  const std::size_t hash = rest.find('#');
  rest = rest.substr(0, hash);
  u.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  for (const char ch : u.target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f)
      throw invalid_url_error("aio::http: space or control character in the path of \"" + shown +
                              "\" (percent-encode it)");
  }
  return u;
}

std::string url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) h += ":" + std::to_string(port);
  return h;
}

// --- the pool ------------------------------------------------------------------

namespace detail {

struct pooled_connection {
  stream_reader reader;
  stream_writer writer;
  std::string buffer;  // bytes read and not yet parsed
  std::string key;
  time_point idle_since{};
};

struct session_state {
  explicit session_state(client_options o) : options(std::move(o)) {
    if (options.limit > 0) total = std::make_unique<semaphore>(static_cast<std::ptrdiff_t>(options.limit));
  }
  ~session_state() { close_idle(); }

  client_options options;
  std::unique_ptr<semaphore> total;
  std::unordered_map<std::string, std::unique_ptr<semaphore>> per_host;
  std::unordered_map<std::string, std::deque<std::unique_ptr<pooled_connection>>> idle;
  std::size_t open = 0;
  std::size_t idle_count = 0;
  std::size_t opened = 0;
  bool closed = false;

  semaphore* host_semaphore(const std::string& key) {
    if (options.limit_per_host == 0) return nullptr;
    auto& s = per_host[key];
    if (!s) s = std::make_unique<semaphore>(static_cast<std::ptrdiff_t>(options.limit_per_host));
    return s.get();
  }

  void close_connection(std::unique_ptr<pooled_connection> c) noexcept {
    if (!c) return;
    try {
      c->writer.close();
    } catch (...) {
    }
    --open;
  }

  /// An idle connection still good to use: not expired, not closed by the
  /// server (a peek sees end of stream), no unexpected bytes waiting.
  bool usable(pooled_connection& c, time_point now) const noexcept {
    if (now - c.idle_since > options.keep_alive_timeout) return false;
    if (!c.buffer.empty()) return false;
    char b;
    const ssize_t n = ::recv(c.writer.fd(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::unique_ptr<pooled_connection> take_idle(const std::string& key) {
    const auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    const time_point now = get_running_loop().time();
    while (!it->second.empty()) {
      std::unique_ptr<pooled_connection> c = std::move(it->second.back());  // the most recent is the likeliest alive
      it->second.pop_back();
      --idle_count;
      if (usable(*c, now)) return c;
      close_connection(std::move(c));
    }
    return nullptr;
  }

  void put_back(std::unique_ptr<pooled_connection> c) {
    if (closed) {
      close_connection(std::move(c));
      return;
    }
    c->idle_since = get_running_loop().time();
    auto& q = idle[c->key];
    q.push_back(std::move(c));
    ++idle_count;
  }

  /// Closes the idle connection that has waited longest.
  bool evict_one() {
    std::deque<std::unique_ptr<pooled_connection>>* oldest = nullptr;
    for (auto& [key, q] : idle)
      if (!q.empty() && (oldest == nullptr || q.front()->idle_since < oldest->front()->idle_since)) oldest = &q;
    if (oldest == nullptr) return false;
    std::unique_ptr<pooled_connection> c = std::move(oldest->front());
    oldest->pop_front();
    --idle_count;
    close_connection(std::move(c));
    return true;
  }

  static void attach(client_response& r, std::optional<std::string> body, std::unique_ptr<response_stream> stream);

  void close_idle() noexcept {
    for (auto& [key, q] : idle)
      while (!q.empty()) {
        std::unique_ptr<pooled_connection> c = std::move(q.front());
        q.pop_front();
        --idle_count;
        close_connection(std::move(c));
      }
  }
};

/// A request's hold on the pool: its permits and its connection. Destroyed
/// with the connection still in it (an error, a cancellation, a body left
/// unread), it closes the connection.
struct lease {
  std::shared_ptr<session_state> st;
  semaphore::permit total;
  semaphore::permit host;
  std::unique_ptr<pooled_connection> conn;

  explicit lease(std::shared_ptr<session_state> s) noexcept : st(std::move(s)) {}
  lease(const lease&) = delete;
  ~lease() { st->close_connection(std::move(conn)); }
  void give_back() {
    if (conn) st->put_back(std::move(conn));
  }
};

struct response_stream {
  explicit response_stream(std::shared_ptr<session_state> st, limits l) : held(std::move(st)), parser(l) {}
  lease held;
  response_parser parser;
  std::string where;  // host:port, for messages
};

void session_state::attach(client_response& r, std::optional<std::string> body,
                           std::unique_ptr<response_stream> stream) {
  r.body_ = std::move(body);
  r.stream_ = std::move(stream);
}

namespace {

bool idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" ||
         method == "TRACE";
}

bool is_token_char(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
         (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
}

void check_token(std::string_view s, const char* what) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
    throw value_error(std::string("aio::http: invalid ") + what + " \"" + std::string(s.substr(0, 64)) + "\"");
}

std::string build_request(const std::string& method, const url& u, const std::string& body, const headers& extra,
                          const client_options& options) {
  check_token(method, "method");
  std::string out;
  out.reserve(128 + body.size());
  out += method;
  out += ' ';
  out += u.target;
  out += " HTTP/1.1\r\n";
  if (!extra.contains("Host")) out += "Host: " + u.authority() + "\r\n";
  if (!extra.contains("User-Agent") && !options.user_agent.empty()) out += "User-Agent: " + options.user_agent + "\r\n";
  if (!extra.contains("Accept")) out += "Accept: */*\r\n";
  const bool framed = extra.contains("Content-Length") || extra.contains("Transfer-Encoding");
  if (!framed && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : extra) {
    check_token(name, "header name");
    for (const char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        throw value_error("aio::http: the value of header " + name +
                          " holds CR, LF or another control character (header injection)");
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

[[noreturn]] void invalid_response(const std::string& where, const http_error& e) {
  throw client_error("aio::http: invalid response from " + where + ": " + e.detail());
}

/// Reads until the response parser has the head (skipping 1xx interim
/// responses). Returns false if the connection ended before any byte came.
task<bool> read_head(response_stream* s) {
  pooled_connection& c = *s->held.conn;
  bool got_any = false;
  for (;;) {
    if (!c.buffer.empty()) {
      got_any = true;
      std::size_t used = 0;
      try {
        used = s->parser.feed(c.buffer);
      } catch (const http_error& e) {
        invalid_response(s->where, e);
      }
      c.buffer.erase(0, used);
      if (s->parser.head_complete()) {
        const int status = s->parser.head().status;
        if (status == 101) throw client_error("aio::http: " + s->where + " switched protocols (101), which is not supported");
        if (status >= 100 && status < 200) {  // 100 Continue, 103 Early Hints: wait for the real one
          s->parser.reset();
          continue;
        }
        co_return true;
      }
      if (!c.buffer.empty()) continue;
    }
    std::string data = co_await c.reader.read(64 * 1024);
    if (data.empty()) {
      if (!got_any) co_return false;
      throw client_error("aio::http: " + s->where + " closed the connection in the middle of the response head");
    }
    c.buffer = std::move(data);
  }
}

task<std::string> read_body(response_stream* s) {
  pooled_connection& c = *s->held.conn;
  try {
    while (!s->parser.complete()) {
      if (!c.buffer.empty()) {
        const std::size_t used = s->parser.feed(c.buffer);
        c.buffer.erase(0, used);
        if (s->parser.complete()) break;
        if (!c.buffer.empty()) continue;
      }
      std::string data = co_await c.reader.read(64 * 1024);
      if (data.empty()) {
        s->parser.finish();
        break;
      }
      c.buffer = std::move(data);
    }
  } catch (const http_error& e) {
    invalid_response(s->where, e);
  }
  std::string body = s->parser.take_body();
  if (s->parser.keep_alive() && c.buffer.empty()) s->held.give_back();  // else the lease closes it
  co_return body;
}

task<client_response> exchange(std::shared_ptr<session_state> st, std::string method, std::string url_text,
                               std::string body, headers extra) {
  if (st->closed) throw invalid_state_error("aio::http::client_session: the session is closed");
  const url u = url::parse(url_text);
  const std::string bytes = build_request(method, u, body, extra, st->options);
  // The pool's key, and how messages name the server.
  const std::string where = u.host.find(':') != std::string::npos ? "[" + u.host + "]:" + std::to_string(u.port)
                                                                  : u.host + ":" + std::to_string(u.port);
  const std::string& key = where;

  auto stream = std::make_unique<response_stream>(st, st->options.limits);
  stream->where = where;
  stream->parser.set_head_request(method == "HEAD");
  if (st->total) stream->held.total = co_await st->total->acquire();
  if (semaphore* hs = st->host_semaphore(key)) stream->held.host = co_await hs->acquire();

  for (int attempt = 0;; ++attempt) {
    bool reused = true;
    stream->held.conn = st->take_idle(key);
    if (!stream->held.conn) {
      reused = false;
      if (st->options.limit > 0 && st->open >= st->options.limit) st->evict_one();
      ++st->open;  // reserved now, so that concurrent connects count
      std::pair<stream_reader, stream_writer> rw;
      try {
        auto connecting = open_connection(u.host, u.port);
        rw = co_await std::move(connecting);
      } catch (...) {
        --st->open;
        throw;
      }
      ++st->opened;
      auto c = std::make_unique<pooled_connection>();
      c->reader = std::move(rw.first);
      c->writer = std::move(rw.second);
      c->key = key;
      stream->held.conn = std::move(c);
    }
    bool answered = false;
    bool failed_silently = false;  // no byte of a response: the server may have closed a reused connection
    try {
      stream->held.conn->writer.write(bytes);
      co_await stream->held.conn->writer.drain();
      answered = co_await read_head(stream.get());
      failed_silently = !answered;
    } catch (const std::system_error& e) {
      if (!reused || attempt > 0 || !idempotent(method)) throw;
      failed_silently = true;
    }
    if (answered) break;
    st->close_connection(std::move(stream->held.conn));
    stream->parser.reset();
    stream->parser.set_head_request(method == "HEAD");
    if (!failed_silently || !reused || attempt > 0 || !idempotent(method))
      throw client_error("aio::http: " + where + " closed the connection without answering (server disconnected)");
  }

  client_response resp;
  const response_head& h = stream->parser.head();
  resp.status = h.status;
  resp.reason = h.reason;
  resp.version_minor = h.version_minor;
  resp.headers = h.headers;
  resp.url = std::move(url_text);
  resp.method = std::move(method);
  if (stream->parser.complete()) {
    // No body (HEAD, 204, 304, Content-Length: 0): the connection is free now.
    std::string none = co_await read_body(stream.get());
    session_state::attach(resp, std::move(none), nullptr);
  } else {
    session_state::attach(resp, std::nullopt, std::move(stream));
  }
  co_return resp;
}

}  // namespace

}  // namespace detail

// --- client_response ----------------------------------------------------------------

client_response::client_response() noexcept = default;
client_response::client_response(client_response&&) noexcept = default;
client_response& client_response::operator=(client_response&&) noexcept = default;
client_response::~client_response() = default;

void client_response::raise_for_status() const {
  if (status >= 400) throw response_status_error(status, reason, url);
}

namespace {
task<std::string> response_text(std::optional<std::string>* body, std::unique_ptr<detail::response_stream>* stream) {
  if (!*body) {
    if (!*stream) throw invalid_state_error("aio::http::client_response: released before its body was read");
    std::string b = co_await detail::read_body(stream->get());
    *body = std::move(b);
    stream->reset();
  }
  co_return **body;
}
task<http::json> response_json(task<std::string> text) {
  std::string t = co_await std::move(text);
  co_return http::json::parse(t);
}
}  // namespace

task<std::string> client_response::text() { return response_text(&body_, &stream_); }
task<std::string> client_response::bytes() { return text(); }
task<http::json> client_response::json() { return response_json(text()); }
void client_response::release() noexcept { stream_.reset(); }

// --- client_session -----------------------------------------------------------------

client_session::client_session(client_options options)
    : s_(std::make_shared<detail::session_state>(std::move(options))) {}
client_session::~client_session() { close(); }

task<client_response> client_session::request(std::string method, std::string url, std::string body,
                                              http::headers extra) {
  return detail::exchange(s_, std::move(method), std::move(url), std::move(body), std::move(extra));
}
task<client_response> client_session::get(std::string url, http::headers extra) {
  return request("GET", std::move(url), {}, std::move(extra));
}
task<client_response> client_session::post(std::string url, std::string body, http::headers extra) {
  return request("POST", std::move(url), std::move(body), std::move(extra));
}
task<client_response> client_session::put(std::string url, std::string body, http::headers extra) {
  return request("PUT", std::move(url), std::move(body), std::move(extra));
}
task<client_response> client_session::delete_(std::string url, http::headers extra) {
  return request("DELETE", std::move(url), {}, std::move(extra));
}
task<client_response> client_session::head(std::string url, http::headers extra) {
  return request("HEAD", std::move(url), {}, std::move(extra));
}

void client_session::close() noexcept {
  s_->closed = true;
  s_->close_idle();
}
bool client_session::closed() const noexcept { return s_->closed; }
std::size_t client_session::open_connections() const noexcept { return s_->open; }
std::size_t client_session::idle_connections() const noexcept { return s_->idle_count; }
std::size_t client_session::connections_opened() const noexcept { return s_->opened; }

}  // namespace aio::http
