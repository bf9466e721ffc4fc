// The HTTP server: routing and error responses (app_state), and one task per
// connection reading requests, answering them in order, and closing on
// timeouts, errors and shutdown.
//
// A connection runs under one timeout_scope whose deadline moves with the
// connection's phase: keep_alive_timeout while idle, request_timeout from a
// request's first byte until it is complete (so a client trickling a byte at
// a time cannot hold the connection: the deadline is per request, not per
// read), none while the handler runs, request_timeout while a response waits
// to be sent. One timer per connection rather than one per read, and checked
// lazily: a request only records its deadline (no timer operation), and the
// timer, when it fires, re-arms itself at the recorded deadline or makes the
// scope expire (see `connection`).
#include <aio/http/server.hpp>

#include <aio/cancellation.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <csignal>
#include <ctime>
#include <list>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace aio::http {

namespace detail {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

response error_response(int status, std::string_view detail) {
  json body = json::object{{"detail", json(detail)}};
  return response::json(body, status);
}

std::string type_name(const char* mangled) { return mangled; }

task<response> ready(response r) { co_return r; }

}  // namespace

void app_state::add_route(std::string method, std::string pattern, erased_handler handler,
                          std::vector<std::pair<std::type_index, const char*>> needs) {
  if (pattern.empty() || pattern.front() != '/')
    throw value_error("aio::http::app: route pattern \"" + pattern + "\" must start with '/'");
  route r;
  for (const std::string_view seg : split_path(pattern)) {
    route_segment s;
    if (!seg.empty() && seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}' || seg.find_first_of("{}/", 1) != seg.size() - 1)
        throw value_error("aio::http::app: malformed parameter \"" + std::string(seg) + "\" in route \"" + pattern +
                          "\" (write {name} as a whole segment)");
      s.parameter = true;
      s.text.assign(seg.substr(1, seg.size() - 2));
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos)
        throw value_error("aio::http::app: a parameter must be a whole segment in route \"" + pattern + "\"");
      s.text.assign(seg);
    }
    r.segments.push_back(std::move(s));
  }
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.needs = std::move(needs);
  routes.push_back(std::move(r));
}

task<std::shared_ptr<void>> app_state::resolve(std::type_index t, const char* name, request& req) const {
  const auto it = providers.find(t);
  if (it == providers.end())
    throw std::logic_error("aio::http: no provider for the dependency type " + type_name(name) +
                           ": register one with app.dependency(provider)");
  return it->second(req);
}

void app_state::check_dependencies() const {
  for (const route& r : routes)
    for (const auto& [t, name] : r.needs)
      if (!providers.contains(t))
        throw invalid_state_error("aio::http: the handler of " + r.method + " " + r.pattern +
                                  " takes a dependency of type " + type_name(name) +
                                  " that has no provider: register one with app.dependency(provider)");
}

namespace {

/// Runs the handler; turns what it throws into a response.
task<response> run_handler(const app_state* app, const route* r, request& req) {
  try {
    auto t = r->handler(req, *app);
    co_return co_await std::move(t);
  } catch (const http_error& e) {
    co_return error_response(e.status(), e.detail());
  } catch (const std::exception& e) {
    log("aio::http: exception in the handler of " + req.method + " " + req.path + " (" + r->pattern + "): " + e.what());
  } catch (const cancelled_error&) {
    throw;
  } catch (...) {
    log("aio::http: non-standard exception in the handler of " + req.method + " " + req.path + " (" + r->pattern + ")");
  }
  co_return error_response(500, "Internal Server Error");
}

}  // namespace

namespace {

/// Matches the path against a route's segments, walking both at once: no
/// vector of segments, and a segment is percent-decoded only if it holds a
/// '%' (the same result as split_path + percent_decode, without allocating
/// for literal routes). Parameters go to `found`.
bool match_route(const route& r, std::string_view path, std::vector<std::pair<std::string, std::string>>& found) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const std::size_t count = r.segments.size();
  for (std::size_t i = 0;; ++i) {
    const std::size_t slash = path.find('/');
    const std::string_view seg = path.substr(0, slash);
    if (i == count) return false;  // the path has more segments
    const route_segment& want = r.segments[i];
    const bool escaped = seg.find('%') != std::string_view::npos;
    if (want.parameter) {
      if (seg.empty()) return false;
      std::string decoded = escaped ? percent_decode(seg) : std::string(seg);
      if (decoded.empty()) return false;
      found.emplace_back(want.text, std::move(decoded));
    } else if (escaped ? percent_decode(seg) != want.text : seg != want.text) {
      return false;
    }
    if (slash == std::string_view::npos) return i + 1 == count;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

task<response> app_state::handle(request& req) const {
  const bool head = req.method == "HEAD";
  const route* match = nullptr;
  const route* get_match = nullptr;
  std::string allow;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> get_params;
  std::vector<std::pair<std::string, std::string>> found;
  for (const route& r : routes) {
    found.clear();
    if (!match_route(r, req.path, found)) continue;
    if (r.method == req.method) {
      match = &r;
      params = std::move(found);
      break;
    }
    if (head && r.method == "GET" && get_match == nullptr) {
      get_match = &r;
      get_params = std::move(found);
      found = {};
    }
    if (allow.find(r.method) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow += r.method;
    }
  }
  if (match == nullptr && get_match != nullptr) {
    match = get_match;
    params = std::move(get_params);
  }
  if (match == nullptr) {
    if (allow.empty()) return ready(error_response(404, "Not Found"));
    response r = error_response(405, "Method Not Allowed");
    r.headers.add("Allow", allow);
    return ready(std::move(r));
  }
  if (!params.empty() || !req.path_params().empty()) req.set_path_params(std::move(params));
  return run_handler(this, match, req);
}

// --- the server --------------------------------------------------------------

struct connection_record {
  cancellation_source cancel;
  bool idle = false;  // nothing to answer: waiting for a request's first byte, or lingering
};

struct http_server_state {
  std::shared_ptr<app_state> app;
  server_options options;
  aio::server listener;
  std::list<connection_record> connections;
  std::size_t background_running = 0;
  cancellation_source background_cancel;
  bool shutting_down = false;
  future<void> stopped;  // shutdown() was called
  future<void> drained;  // shutdown finished: no connection, no background task
  callback_handle force_timer;
  // The Date header, formatted once a second.
  std::time_t date_second = -1;
  std::string date_line;

  const std::string& date() {
    const std::time_t now = std::time(nullptr);
    if (now != date_second) {
      date_second = now;
      std::tm tm{};
      ::gmtime_r(&now, &tm);
      char buf[64];
      const std::size_t n = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\nServer: aio\r\n", &tm);
      date_line.assign(buf, n);
    }
    return date_line;
  }

  void check_drained() {
    if (shutting_down && connections.empty() && background_running == 0 && !drained.done()) {
      force_timer.cancel();
      drained.set_result();
    }
  }

  void force_close() noexcept {
    for (auto& c : connections) c.cancel.cancel();
    background_cancel.cancel();
  }
};

namespace {

enum class phase : std::uint8_t { idle, receiving, handling, sending, lingering };

struct connection {
  std::shared_ptr<http_server_state> st;
  stream_reader reader;
  stream_writer writer;
  connection_record* record = nullptr;
  timeout_scope* scope = nullptr;
  phase ph = phase::idle;
  // The deadline the phase asks for (none while a handler runs). It moves on
  // every request, so it is kept here and checked lazily: a loop timer
  // (`check`, at `check_at`) compares it with the time when it fires and
  // re-arms itself at the deadline if that moved later, or makes the scope
  // expire now if it has passed. A request costs no timer operation at all,
  // only the phases that bring the deadline closer re-arm the check.
  std::optional<time_point> deadline;
  callback_handle check;
  time_point check_at{};
  bool check_armed = false;
  bool scope_open = false;  // request_loop runs inside the scope: reschedule() is allowed
  bool expiring = false;    // the scope was told to expire: nothing more to check
};

void check_deadline(connection* c) noexcept;

void arm_check(connection* c, time_point when) {
  if (c->check_armed) c->check.cancel();
  c->check = get_running_loop().call_at(when, [c] { check_deadline(c); });
  c->check_at = when;
  c->check_armed = true;
}

void check_deadline(connection* c) noexcept {
  c->check_armed = false;
  if (!c->scope_open || c->expiring || !c->deadline) return;  // set_deadline re-arms
  const time_point now = get_running_loop().time();
  try {
    if (*c->deadline <= now) {
      c->expiring = true;
      c->scope->reschedule(*c->deadline);  // past: the scope expires at once
    } else {
      arm_check(c, *c->deadline);
    }
  } catch (...) {
    // Out of memory re-arming: expire now rather than never.
    c->expiring = true;
    try {
      c->scope->reschedule(now);
    } catch (...) {
    }
  }
}

void set_deadline(connection* c, std::optional<std::chrono::nanoseconds> after) {
  if (!after) {
    c->deadline.reset();
    return;
  }
  const time_point when = get_running_loop().time() + *after;
  c->deadline = when;
  if (c->expiring) return;
  // A check already due at or before the new deadline will find it and move
  // on to it; an earlier deadline needs an earlier check.
  if (!c->check_armed || when < c->check_at) arm_check(c, when);
}

task<void> run_background(std::shared_ptr<http_server_state> st, std::vector<task<void>> tasks) {
  // As Starlette runs BackgroundTasks: in order; a failure skips the rest.
  try {
    for (auto& t : tasks) {
      auto cancellable = with_cancellation(std::move(t), st->background_cancel.token());
      co_await std::move(cancellable);
    }
  } catch (const cancelled_error&) {
    // Shutdown ran out of time, or the loop is finishing.
  } catch (const std::exception& e) {
    log(std::string("aio::http: a background task failed: ") + e.what());
  } catch (...) {
    log("aio::http: a background task failed with a non-standard exception");
  }
  --st->background_running;
  st->check_drained();
}

void start_background(const std::shared_ptr<http_server_state>& st, std::vector<task<void>> tasks) {
  ++st->background_running;  // counted now: a shutdown in between must wait for it
  (void)create_task(run_background(st, std::move(tasks)), "http background tasks");
}

/// Sends `out` (at once if the socket takes it); true if some of it is still
/// queued, to be waited for with wait_sent().
bool send(connection* c, std::string& out) {
  if (out.empty()) return false;
  c->writer.write(out);
  out.clear();
  return c->writer.buffer_size() != 0;
}

/// Waits for the socket to take what send() queued (back-pressure), under the
/// request timeout.
task<void> wait_sent(connection* c) {
  const phase before = c->ph;
  c->ph = phase::sending;
  set_deadline(c, c->st->options.request_timeout);
  co_await c->writer.drain();
  c->ph = before;
  if (before == phase::idle) set_deadline(c, c->st->options.keep_alive_timeout);
  else if (before == phase::receiving) set_deadline(c, c->st->options.request_timeout);
}

/// Sends `out` and waits for the socket to take it.
task<void> flush(connection* c, std::string& out) {
  if (send(c, out)) co_await wait_sent(c);
}

/// After an error response: stop writing, read and drop what the client is
/// still sending for a moment, then close — closing with unread data makes
/// the kernel send a reset, which can destroy the response before the client
/// reads it (nginx's lingering close).
task<void> linger(connection* c) {
  c->ph = phase::lingering;
  c->record->idle = true;  // nothing left to answer: shutdown may close it at once
  if (c->st->shutting_down) co_return;
  c->writer.write_eof();
  set_deadline(c, std::chrono::seconds(2));
  std::size_t dropped = 0;
  while (dropped < 1024 * 1024) {
    std::string data = co_await c->reader.read(64 * 1024);
    if (data.empty()) break;
    dropped += data.size();
  }
}

/// Writes `resp` (the head only, for a streaming one) into `out`; a response
/// the handler built wrong is logged and replaced by a 500. False then.
bool write_head(std::string& out, const request& req, const response& resp, bool keep, bool head,
                const std::string& date) {
  try {
    write_response(out, resp, req.version_minor, keep, head, date);
    return true;
  } catch (const http_error& e) {
    log("aio::http: invalid response from the handler of " + req.method + " " + req.path + ": " + e.detail());
    write_response(out, error_response(500, "Internal Server Error"), req.version_minor, keep, head, date);
    return false;
  }
}

/// How a streaming response ended.
enum class stream_end : std::uint8_t {
  keep_open,  // complete, and the connection can carry another request
  close,      // complete, and the connection closes (HTTP/1.0 body, Connection: close)
  aborted,    // the generator failed after the head was sent: close without completing
};

/// Sends a streaming response (resp.body_stream): see response in message.hpp.
/// The head waits for the generator's first non-empty piece and goes out with
/// it; each piece is written as a chunk (HTTP/1.1) or as it is (HTTP/1.0),
/// and the next one is asked for once the socket has taken the buffer down
/// (wait_sent: back-pressure, under request_timeout). The generator runs with
/// no deadline, as a handler does. The last chunk is left in `out`, to go out
/// with the responses to pipelined requests. If the connection fails, times
/// out or is cancelled, the generator is closed (aclose) and the error goes on.
task<stream_end> send_streamed(connection* c, request& req, response& resp, bool keep, bool head, std::string& out) {
  http_server_state& st = *c->st;
  body_generator& gen = *resp.body_stream;
  const bool no_body = head || resp.status == 204 || resp.status == 304;
  const bool chunked = req.version_minor >= 1;
  if (!chunked && !no_body) keep = false;  // the body ends with the connection
  const stream_end complete = keep ? stream_end::keep_open : stream_end::close;
  bool head_written = false;
  std::exception_ptr failed;         // what the generator threw
  std::exception_ptr connection_error;  // the write failed, timed out or was cancelled
  try {
    for (;;) {
      std::optional<std::string> piece;
      if (!no_body) {
        try {
          piece = co_await gen.next();
        } catch (const cancelled_error&) {
          throw;
        } catch (...) {
          failed = std::current_exception();
        }
        if (failed) break;
        if (piece && piece->empty()) continue;  // a zero-size chunk would end the body
      }
      if (!head_written) {
        head_written = true;
        if (!write_head(out, req, resp, keep, head, st.date())) break;  // the generator is closed below
      }
      if (!piece) break;
      if (chunked) write_chunk(out, *piece);
      else out.append(*piece);
      piece.reset();
      if (send(c, out)) co_await wait_sent(c);
      set_deadline(c, std::nullopt);  // the generator's time is its own, as a handler's
    }
  } catch (...) {
    connection_error = std::current_exception();
  }
  if (!gen.done()) {
    // Not run to its end (an invalid head, a failed connection): let its
    // cleanup run.
    try {
      co_await gen.aclose();
    } catch (const std::exception& e) {
      log("aio::http: the body stream of " + req.method + " " + req.path + " failed while closing: " + e.what());
    } catch (...) {
      log("aio::http: the body stream of " + req.method + " " + req.path + " failed while closing");
    }
  }
  if (connection_error) std::rethrow_exception(connection_error);
  if (failed) {
    std::string what = "a non-standard exception";
    std::optional<response> answer;
    try {
      std::rethrow_exception(failed);
    } catch (const http_error& e) {
      what = e.what();
      if (!head_written) answer = error_response(e.status(), e.detail());
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    if (head_written) {
      // Part of the body is out: the client must not take what it got for
      // the whole body. Close without the last chunk.
      log("aio::http: the body stream of " + req.method + " " + req.path +
          " failed after the response began; closing the connection: " + what);
      co_return stream_end::aborted;
    }
    if (!answer) {
      log("aio::http: exception in the body stream of " + req.method + " " + req.path + ": " + what);
      answer = error_response(500, "Internal Server Error");
    }
    keep = req.keep_alive() && !st.shutting_down;
    write_response(out, *answer, req.version_minor, keep, head, st.date());
    co_return keep ? stream_end::keep_open : stream_end::close;
  }
  if (chunked && !no_body) write_last_chunk(out);
  co_return complete;
}

task<void> request_loop(connection* c) {
  http_server_state& st = *c->st;
  struct scope_open_guard {
    connection* c;
    ~scope_open_guard() { c->scope_open = false; }
  } guard{c};
  c->scope_open = true;
  set_deadline(c, st.options.keep_alive_timeout);
  request_parser parser{st.options.limits};
  std::string buf;
  std::size_t pos = 0;
  std::string out;
  bool continue_sent = false;
  for (;;) {
    std::optional<http_error> malformed;
    try {
      if (pos < buf.size()) pos += parser.feed(std::string_view(buf).substr(pos));
    } catch (const http_error& e) {
      malformed = e;
    }
    if (malformed) {
      const response r = error_response(malformed->status(), malformed->detail());
      write_response(out, r, 1, false, false, st.date());
      co_await flush(c, out);
      co_await linger(c);
      co_return;
    }

    if (parser.complete()) {
      // Handled in place, and the parser reset once the response is written:
      // the next request reuses the storage of this one (its header list,
      // strings) instead of allocating its own.
      request& req = parser.get();
      continue_sent = false;
      c->ph = phase::handling;
      set_deadline(c, std::nullopt);
      response resp = co_await st.app->handle(req);
      bool keep = req.keep_alive() && !st.shutting_down;
      const bool head = req.method == "HEAD";
      if (resp.body_stream) [[unlikely]] {
        auto streaming = send_streamed(c, req, resp, keep, head, out);
        const stream_end end = co_await std::move(streaming);
        if (end == stream_end::aborted) co_return;
        keep = end == stream_end::keep_open;
      } else {
        write_head(out, req, resp, keep, head, st.date());
      }
      std::vector<task<void>> background = req.background_tasks().take();
      parser.reset();
      // Pipelined requests already here are answered first and their
      // responses sent together; otherwise send now.
      if ((!keep || !background.empty() || pos == buf.size()) && send(c, out)) co_await wait_sent(c);
      if (!background.empty()) start_background(c->st, std::move(background));
      if (!keep) co_return;
      c->ph = phase::idle;
      set_deadline(c, st.options.keep_alive_timeout);
      if (pos == buf.size()) {
        buf.clear();
        pos = 0;
      }
      continue;
    }

    // More bytes are needed.
    if (send(c, out)) co_await wait_sent(c);
    if (parser.head_complete() && parser.expects_continue() && !continue_sent) {
      continue_sent = true;
      std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await flush(c, interim);
    }
    if (!parser.started()) {
      if (st.shutting_down) co_return;
      c->record->idle = true;
    } else if (c->ph == phase::idle) {
      c->ph = phase::receiving;
      set_deadline(c, st.options.request_timeout);
    }
    std::string data = co_await c->reader.read(64 * 1024);
    c->record->idle = false;
    if (data.empty()) co_return;  // the client closed (mid-request or not): nobody to answer
    if (pos == buf.size()) {
      buf = std::move(data);
    } else {
      buf.erase(0, pos);
      buf += data;
    }
    pos = 0;
  }
}

task<void> serve_connection(connection* c) {
  // The scope has no deadline of its own: check_deadline() gives it one when
  // the connection's deadline has passed (see connection).
  auto scope = timeout_scope::at(std::nullopt);
  c->scope = &scope;
  struct stop_check {
    connection* c;
    ~stop_check() {
      c->scope_open = false;
      c->check.cancel();
      c->check_armed = false;
    }
  } stop{c};
  bool timed_out = false;
  try {
    auto loop = request_loop(c);
    co_await scope.run(std::move(loop));
  } catch (const timeout_error&) {
    timed_out = true;
  }
  if (timed_out && c->ph == phase::receiving) {
    // A request started and did not finish in time: say so, then close.
    std::string out;
    write_response(out, error_response(408, "Request Timeout"), 1, false, false, c->st->date());
    c->writer.write(out);
  }
}

task<void> handle_connection(std::shared_ptr<http_server_state> st, stream_reader reader, stream_writer writer) {
  if (st->shutting_down) co_return;  // accepted just before the listener closed
  st->connections.emplace_back();
  const auto it = std::prev(st->connections.end());
  connection c;
  c.st = st;
  c.reader = reader;
  c.writer = writer;
  c.record = &*it;
  try {
    auto body = serve_connection(&c);
    auto cancellable = with_cancellation(std::move(body), it->cancel.token());
    co_await std::move(cancellable);
  } catch (const cancelled_error&) {
    // Shutdown closed an idle connection, or ran out of time.
  } catch (const std::system_error&) {
    // The client went away (reset, broken pipe): nothing to answer.
  } catch (const std::exception& e) {
    log(std::string("aio::http: connection error: ") + e.what());
  } catch (...) {
    log("aio::http: non-standard exception on a connection");
  }
  st->connections.erase(it);
  st->check_drained();
  // aio::start_server closes the writer once we return.
}

task<void> wait_drained(std::shared_ptr<http_server_state> st) {
  future<void> drained = st->drained;
  co_await shield(drained);
  co_await st->listener.wait_closed();
}

task<void> serve_until_stopped(server self, std::shared_ptr<http_server_state> st) {
  bool cancelled = false;
  try {
    future<void> stopped = st->stopped;
    co_await shield(stopped);
  } catch (const cancelled_error&) {
    cancelled = true;
  }
  self.shutdown();
  co_await wait_drained(st);
  if (cancelled) throw cancelled_error{};
}

}  // namespace

}  // namespace detail

app::app() : s_(std::make_shared<detail::app_state>()) {}

std::uint16_t server::port() const {
  if (!s_) throw invalid_state_error("aio::http::server::port(): not started");
  return s_->listener.port();
}
std::vector<endpoint> server::sockets() const { return s_ ? s_->listener.sockets() : std::vector<endpoint>{}; }
std::size_t server::connections() const noexcept { return s_ ? s_->connections.size() : 0; }
std::size_t server::background_tasks_running() const noexcept { return s_ ? s_->background_running : 0; }

void server::shutdown() {
  if (!s_ || s_->shutting_down) return;
  detail::http_server_state& st = *s_;
  st.shutting_down = true;
  st.listener.close();
  for (auto& c : st.connections)
    if (c.idle) c.cancel.cancel();
  if (!st.stopped.done()) st.stopped.set_result();
  std::weak_ptr<detail::http_server_state> weak = s_;
  st.force_timer = get_running_loop().call_later(st.options.shutdown_timeout, [weak] {
    if (auto locked = weak.lock()) {
      log("aio::http: graceful shutdown timed out; cancelling " + std::to_string(locked->connections.size()) +
          " connection(s) and " + std::to_string(locked->background_running) + " background task group(s)");
      locked->force_close();
    }
  });
  st.check_drained();
}

task<void> server::wait_closed() { return detail::wait_drained(s_); }

task<void> server::serve_forever() {
  if (!s_) throw invalid_state_error("aio::http::server::serve_forever(): not started");
  return detail::serve_until_stopped(*this, s_);
}

namespace {
task<void> connection_entry(std::weak_ptr<detail::http_server_state> weak, stream_reader r, stream_writer w) {
  auto st = weak.lock();
  if (!st) co_return;
  co_await detail::handle_connection(std::move(st), std::move(r), std::move(w));
}
}  // namespace

task<server> start_server(app application, std::string host, std::uint16_t port, server_options options) {
  application.state()->check_dependencies();
  auto st = std::make_shared<detail::http_server_state>();
  st->app = application.state();
  st->options = options;
  // The listener holds the handler; a weak pointer keeps the state from
  // owning itself through it.
  std::weak_ptr<detail::http_server_state> weak = st;
  connection_handler handler = [weak](stream_reader r, stream_writer w) { return connection_entry(weak, r, w); };
  auto listening = aio::start_server(std::move(handler), std::move(host), port, options.backlog);
  st->listener = co_await std::move(listening);
  co_return server{st};
}

namespace {
task<void> serve_with_signals(server srv) {
  event_loop& loop = get_running_loop();
  loop.add_signal_handler(SIGINT, [srv]() mutable { srv.shutdown(); });
  loop.add_signal_handler(SIGTERM, [srv]() mutable { srv.shutdown(); });
  struct remove_handlers {
    event_loop& loop;
    ~remove_handlers() {
      loop.remove_signal_handler(SIGINT);
      loop.remove_signal_handler(SIGTERM);
    }
  } guard{loop};
  co_await srv.serve_forever();
}
}  // namespace

task<void> serve(app application, std::string host, std::uint16_t port, server_options options) {
  auto starting = start_server(std::move(application), std::move(host), port, options);
  server srv = co_await std::move(starting);
  co_await serve_with_signals(srv);
}

}  // namespace aio::http
