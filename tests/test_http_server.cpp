// Tests for aio/http/server.hpp. First the app alone (routing, path
// parameters, 404/405, HEAD, errors to responses, dependencies, background
// tasks) on a virtual-time loop with no network; then the server over real
// loopback sockets: keep-alive, pipelining in order, Expect: 100-continue,
// HTTP/1.0, malformed and oversized input (400/413/431, the connection
// closed, the server still serving), idle and slow clients closed after their
// timeouts (408), background tasks after the response, graceful shutdown (by
// call, by SIGTERM, and forced after shutdown_timeout), garbage from many
// clients without a leaked connection; and the server driven by programs no
// one here wrote: curl (keep-alive across URLs and --next, POST, chunked
// uploads, 100-continue, HTTP/1.0, HEAD), wrk (load for a few seconds,
// kept-alive and connection-per-request, with no errors) and nginx as a
// reverse proxy in front of it (HTTP/1.1 upstream keep-alive and HTTP/1.0).
// curl, wrk and nginx are required: without them those tests fail
// (scripts/test installs them).
//
// The socket tests run on real-time loops under a deadline; the timeouts they
// test are set to tens of milliseconds.
#include <aio/http/server.hpp>

#include "support/catch.hpp"
#include "support/http_support.hpp"
#include "support/nginx.hpp"
#include "support/run_test.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/http/client.hpp>
#include <aio/http/json.hpp>
#include <aio/streams.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using aio::http::json;
using aio::http::request;
using aio::http::response;
using aio::test::raw_client;
using aio::test::raw_response;

static_assert(std::is_same_v<decltype(aio::http::start_server(aio::http::app{}, "h", 0)), aio::task<aio::http::server>>);
static_assert(std::is_same_v<decltype(std::declval<aio::http::server&>().serve_forever()), aio::task<void>>);
static_assert(std::is_same_v<decltype(std::declval<const aio::http::app&>().handle(std::declval<request&>())),
                             aio::task<response>>);

namespace {

// --- handlers and dependencies --------------------------------------------------

aio::task<response> hello(request&) { co_return response::text("Hello, World!"); }

aio::task<response> get_user(request& req) {
  co_return response::json(json::object{{"id", req.path_param("id")}, {"q", req.query_param("q").value_or("")}});
}

aio::task<json> list_items(request&) { co_return json::array{1, 2, 3}; }

aio::task<response> fail_http(request&) {
  throw aio::http::http_error(418, "I'm a teapot");
  co_return response{};
}

aio::task<response> fail_other(request&) {
  throw std::runtime_error("database on fire");
  co_return response{};
}

aio::task<response> fail_weird(request&) {
  throw 42;  // not a std::exception: still a 500, never a lost connection
  co_return response{};
}

aio::task<response> echo_json(request& req) {
  json body = req.json();
  body["seen"] = true;
  co_return response::json(body, 201);
}

aio::task<response> sleepy(request& req) {
  const auto ms = std::stoi(req.query_param("ms").value_or("0"));
  co_await aio::sleep(std::chrono::milliseconds(ms));
  co_return response::text("slept " + std::to_string(ms));
}

/// A per-request dependency that counts its lifetime (FastAPI's
/// `yield` dependency: cleanup in the destructor).
struct db_session {
  static inline int alive = 0;
  static inline int opened = 0;
  int id;
  explicit db_session(int i) : id(i) { ++alive; ++opened; }
  db_session(db_session&& o) noexcept : id(o.id) { ++alive; }
  db_session(const db_session&) = delete;
  ~db_session() { --alive; }
};
aio::task<db_session> get_db(request&) {
  co_await aio::yield();
  co_return db_session{db_session::opened + 1};
}

/// A shared dependency, provided by reference.
struct settings {
  std::string name = "aio";
};
settings the_settings;
aio::task<settings&> get_settings() { co_return the_settings; }

aio::task<response> with_deps(request&, db_session& db, settings& s, aio::http::background_tasks& bg) {
  CHECK(db_session::alive >= 1);
  CHECK(bg.empty());
  co_return response::json(json::object{{"db", db.id}, {"name", s.name}});
}

struct missing_dep {};
aio::task<response> needs_missing(request&, missing_dep&) { co_return response{}; }

aio::future<void>* background_done = nullptr;
std::vector<std::string>* background_log = nullptr;

aio::task<void> send_email(std::string to, std::string message) {
  co_await aio::sleep(50ms);
  background_log->push_back("email to " + to + ": " + message);
  if (background_done && !background_done->done()) background_done->set_result();
}

aio::task<response> register_user(request& req, aio::http::background_tasks& tasks) {
  tasks.add_task(send_email(req.query_param("email").value_or("?"), "Welcome!"));
  background_log->push_back("responded");
  co_return response::json(json::object{{"registered", true}});
}

aio::task<response> register_via_request(request& req) {
  req.background(send_email("b@example.com", "Hi"));
  co_return response::text("ok");
}

// --- streaming responses (response::stream) ---------------------------------------------

/// What the streaming handlers' generators did, for the tests to check.
struct stream_record {
  int started = 0;                 // bodies that ran
  int closed_by_aclose = 0;        // bodies that saw aclose() at a co_yield
  int finished = 0;                // bodies whose frame is gone (however they ended)
  std::size_t pieces_produced = 0;
};
stream_record streams;

struct frame_end {
  ~frame_end() { ++streams.finished; }
};

/// "piece 1\n" ... "piece n\n", with an empty piece before each (skipped: a
/// zero-size chunk would end the body).
aio::http::body_generator count_pieces(int n) {
  frame_end end;
  ++streams.started;
  for (int i = 1; i <= n; ++i) {
    co_yield std::string();
    co_yield "piece " + std::to_string(i) + "\n";
  }
}

aio::task<response> stream_count(request& req) {
  const int n = std::stoi(req.query_param("n").value_or("3"));
  co_return response::stream(count_pieces(n), "text/plain");
}

/// `count` pieces of `size` bytes, each of one letter (a, b, c, ...), with
/// a yield to the loop between them.
aio::http::body_generator big_pieces(std::size_t count, std::size_t size) {
  frame_end end;
  ++streams.started;
  for (std::size_t i = 0; i < count; ++i) {
    co_await aio::yield();
    ++streams.pieces_produced;
    co_yield std::string(size, static_cast<char>('a' + i % 26));
  }
}

std::string big_body(std::size_t count, std::size_t size) {
  std::string all;
  for (std::size_t i = 0; i < count; ++i) all.append(size, static_cast<char>('a' + i % 26));
  return all;
}

aio::task<response> stream_big(request& req) {
  const auto count = static_cast<std::size_t>(std::stoul(req.query_param("count").value_or("16")));
  const auto size = static_cast<std::size_t>(std::stoul(req.query_param("size").value_or("65536")));
  co_return response::stream(big_pieces(count, size), "application/octet-stream");
}

aio::http::body_generator fail_after(int good_pieces) {
  frame_end end;
  ++streams.started;
  for (int i = 0; i < good_pieces; ++i) co_yield "ok " + std::to_string(i) + "\n";
  throw std::runtime_error("the stream's source broke");
}

aio::task<response> stream_fail(request& req) {
  co_return response::stream(fail_after(std::stoi(req.query_param("after").value_or("2"))));
}

aio::http::body_generator refuse_early() {
  co_await aio::yield();
  throw aio::http::http_error(409, "nothing to stream");
  co_yield std::string();
}

aio::task<response> stream_refused(request&) { co_return response::stream(refuse_early()); }

/// Yields a piece every millisecond until closed; records an aclose().
aio::http::body_generator endless() {
  frame_end end;
  ++streams.started;
  try {
    for (int i = 0;; ++i) {
      co_await aio::sleep(1ms);
      co_yield "tick " + std::to_string(i) + "\n";
    }
  } catch (...) {
    ++streams.closed_by_aclose;  // aclose() throws its exit exception at the co_yield
    throw;
  }
}

aio::task<response> stream_endless(request&) { co_return response::stream(endless(), "text/event-stream"); }

/// n pieces, `ms` milliseconds apart.
aio::http::body_generator slow_pieces(int n, int ms) {
  frame_end end;
  ++streams.started;
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(std::chrono::milliseconds(ms));
    co_yield "slow " + std::to_string(i) + "\n";
  }
}

aio::task<response> stream_slow(request& req) {
  co_return response::stream(slow_pieces(std::stoi(req.query_param("n").value_or("5")),
                                         std::stoi(req.query_param("ms").value_or("20"))));
}

aio::http::app make_app() {
  aio::http::app app;
  app.get("/", hello);
  app.get("/users/{id}", get_user);
  app.delete_("/users/{id}", hello);
  app.get("/items", list_items);
  app.get("/teapot", fail_http);
  app.get("/boom", fail_other);
  app.get("/weird", fail_weird);
  app.post("/echo", echo_json);
  app.get("/sleep", sleepy);
  app.dependency(get_db);
  app.dependency(get_settings);
  app.get("/deps", with_deps);
  app.post("/register", register_user);
  app.post("/register2", register_via_request);
  app.get("/stream", stream_count);
  app.get("/stream/big", stream_big);
  app.get("/stream/fail", stream_fail);
  app.get("/stream/refused", stream_refused);
  app.get("/stream/endless", stream_endless);
  app.get("/stream/slow", stream_slow);
  return app;
}

request make_request(std::string method, std::string target, std::string body = {}) {
  request r;
  r.method = std::move(method);
  r.target = target;
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.body = std::move(body);
  return r;
}

aio::task<response> handle(aio::http::app app, request req) {
  auto t = app.handle(req);
  co_return co_await std::move(t);
}

response handle_now(std::string method, std::string target, std::string body = {}) {
  return aio::test::run_test(handle(make_app(), make_request(std::move(method), std::move(target), std::move(body))));
}

json body_json(const response& r) { return json::parse(r.body); }

}  // namespace

// --- the app, without a network ------------------------------------------------------

TEST_CASE("routes, path parameters, query parameters", "[http][server][app]") {
  const response r = handle_now("GET", "/users/a%20b?q=x+y");
  CHECK(r.status == 200);
  CHECK(r.headers.get("Content-Type") == "application/json");
  CHECK(body_json(r) == json(json::object{{"id", "a b"}, {"q", "x y"}}));
  CHECK(handle_now("GET", "/").body == "Hello, World!");
  CHECK(handle_now("GET", "/items").body == "[1,2,3]");
}

TEST_CASE("404 and 405 answer as FastAPI does", "[http][server][app]") {
  const response missing = handle_now("GET", "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"detail":"Not Found"})");
  CHECK(handle_now("GET", "/users").status == 404);    // a parameter needs a segment
  CHECK(handle_now("GET", "/users/").status == 404);   // and a non-empty one
  const response wrong = handle_now("POST", "/users/7");
  CHECK(wrong.status == 405);
  CHECK(wrong.body == R"({"detail":"Method Not Allowed"})");
  CHECK(wrong.headers.get("Allow") == "GET, DELETE");
  CHECK(handle_now("HEAD", "/").status == 200);  // HEAD uses the GET route
}

TEST_CASE("handler errors become responses", "[http][server][app]") {
  aio::test::log_capture log;
  const response teapot = handle_now("GET", "/teapot");
  CHECK(teapot.status == 418);
  CHECK(teapot.body == R"({"detail":"I'm a teapot"})");
  const response boom = handle_now("GET", "/boom");
  CHECK(boom.status == 500);
  CHECK(boom.body == R"({"detail":"Internal Server Error"})");
  CHECK(log.contains("database on fire"));
  CHECK(handle_now("GET", "/weird").status == 500);
  const response bad_json = handle_now("POST", "/echo", "{oops");
  CHECK(bad_json.status == 422);
  CHECK(body_json(bad_json).at("detail").as_string().find("JSON decode error") == 0);
  const response ok = handle_now("POST", "/echo", R"({"name":"Ada"})");
  CHECK(ok.status == 201);
  CHECK(body_json(ok) == json(json::object{{"name", "Ada"}, {"seen", true}}));
}

TEST_CASE("dependencies: per request by value, shared by reference, background_tasks built in", "[http][server][app]") {
  db_session::alive = 0;
  db_session::opened = 0;
  const response first = handle_now("GET", "/deps");
  const response second = handle_now("GET", "/deps");
  CHECK(body_json(first) == json(json::object{{"db", 1}, {"name", "aio"}}));
  CHECK(body_json(second).at("db").as_int() == 2);  // a new session per request
  CHECK(db_session::alive == 0);                    // each destroyed after its request
}

TEST_CASE("a handler needing an unregistered dependency is refused at start", "[http][server][app]") {
  aio::http::app app;
  app.get("/x", needs_missing);
  auto start = [](aio::http::app a) -> aio::task<bool> {
    try {
      auto starting = aio::http::start_server(a, "127.0.0.1", 0);
      (void)co_await std::move(starting);
    } catch (const aio::invalid_state_error& e) {
      CHECK(std::string(e.what()).find("GET /x") != std::string::npos);
      co_return true;
    }
    co_return false;
  };
  CHECK(aio::test::run_bounded(start(app)));
  // Without the check (app.handle), the request gets a 500 saying why.
  aio::test::log_capture log;
  const response r = aio::test::run_test(handle(app, make_request("GET", "/x")));
  CHECK(r.status == 500);
  CHECK(log.contains("no provider for the dependency type"));
}

TEST_CASE("malformed route patterns are refused", "[http][server][app]") {
  aio::http::app app;
  CHECK_THROWS_AS(app.get("users", hello), aio::value_error);
  CHECK_THROWS_AS(app.get("/users/{id", hello), aio::value_error);
  CHECK_THROWS_AS(app.get("/users/x{id}", hello), aio::value_error);
  CHECK_THROWS_AS(app.get("/users/{}", hello), aio::value_error);
}

namespace {
aio::task<std::vector<std::string>> drain_stream(response r) {
  std::vector<std::string> pieces;
  while (auto piece = co_await r.body_stream->next()) pieces.push_back(std::move(*piece));
  co_return pieces;
}
}  // namespace

TEST_CASE("response::stream: a generator as the body, read through app.handle", "[http][server][app][stream]") {
  const response r = handle_now("GET", "/stream?n=2");
  CHECK(r.status == 200);
  REQUIRE(r.streaming());
  CHECK(r.body.empty());
  CHECK(r.headers.get("Content-Type") == "text/plain");
  CHECK_FALSE(response::text("x").streaming());
  const auto pieces = aio::test::run_test(drain_stream(r));
  CHECK(pieces == std::vector<std::string>{"", "piece 1\n", "", "piece 2\n"});
  CHECK(r.body_stream->done());
}

// --- over sockets ---------------------------------------------------------------------

namespace {

aio::http::server_options quick_options() {
  aio::http::server_options o;
  o.keep_alive_timeout = 2s;
  o.request_timeout = 2s;
  o.shutdown_timeout = 2s;
  return o;
}

aio::task<aio::http::server> start(aio::http::server_options o = quick_options()) {
  auto starting = aio::http::start_server(make_app(), "127.0.0.1", 0, o);
  co_return co_await std::move(starting);
}

aio::task<void> stop(aio::http::server srv) {
  srv.shutdown();
  co_await srv.wait_closed();
  CHECK(srv.connections() == 0);
}

aio::task<void> keep_alive_and_pipelining() {
  aio::http::server srv = co_await start();
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  raw_response a = co_await c.response();
  CHECK(a.status == 200);
  CHECK(a.body == "Hello, World!");
  CHECK(a.keep_alive);
  CHECK(a.headers.get("Content-Type") == "text/plain; charset=utf-8");
  CHECK(a.headers.contains("Date"));
  // Three pipelined requests; the first is the slowest: answers keep the order.
  c.send("GET /sleep?ms=60 HTTP/1.1\r\nHost: t\r\n\r\nGET /sleep?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n"
         "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  raw_response r1 = co_await c.response();
  raw_response r2 = co_await c.response();
  raw_response r3 = co_await c.response();
  CHECK(r1.body == "slept 60");
  CHECK(r2.body == "slept 1");
  CHECK(r3.status == 201);
  CHECK(r3.body == R"({"a":1,"seen":true})");
  CHECK(srv.connections() == 1);
  // HEAD: the GET route's headers, no body.
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  raw_response h = co_await c.response(true);
  CHECK(h.headers.get("Content-Length") == "13");
  CHECK(h.body.empty());
  // Connection: close is honoured.
  c.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  raw_response last = co_await c.response();
  CHECK(last.headers.get("Connection") == "close");
  {
    const bool got15 = co_await c.closed_by_server();
    CHECK(got15);
  }
  co_await stop(srv);
}

aio::task<void> http10_and_expect_continue() {
  aio::http::server srv = co_await start();
  {
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET / HTTP/1.0\r\n\r\n");
    raw_response r = co_await c.response();
    CHECK(r.version_minor == 0);
    CHECK(r.body == "Hello, World!");
    {
    const bool got16 = co_await c.closed_by_server();
    CHECK(got16);
  }
  }
  {
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    raw_response r = co_await c.response();
    CHECK(r.headers.get("Connection") == "keep-alive");
    c.send("GET / HTTP/1.0\r\n\r\n");
    raw_response r2 = co_await c.response();
    CHECK(r2.status == 200);
  }
  {
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n");
    raw_response interim = co_await c.response();
    CHECK(interim.status == 100);
    c.send("{\"b\":[1]}");
    raw_response r = co_await c.response();
    CHECK(r.status == 201);
    CHECK(r.body == R"({"b":[1],"seen":true})");
  }
  co_await stop(srv);
}

aio::task<raw_response> one_bad_request(std::uint16_t port, std::string bytes) {
  raw_client c = co_await raw_client::connect(port);
  c.send(bytes);
  raw_response r = co_await c.response();
  CHECK(r.headers.get("Connection") == "close");
  {
    const bool got17 = co_await c.closed_by_server();
    CHECK(got17);
  }
  co_return r;
}

aio::task<void> malformed_input() {
  aio::http::server_options o = quick_options();
  o.limits.max_head_bytes = 1024;
  o.limits.max_body_bytes = 1000;
  aio::http::server srv = co_await start(o);
  const std::uint16_t port = srv.port();
  raw_response r = co_await one_bad_request(port, "GARBAGE\r\n\r\n");
  CHECK(r.status == 400);
  CHECK(json::parse(r.body).at("detail").as_string().find("malformed request line") == 0);
  {
    auto got1 = co_await one_bad_request(port, "GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n");
    CHECK(got1.status == 400);
  }
  {
    auto got2 = co_await one_bad_request(port, "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n");
    CHECK(got2.status == 400);
  }
  {
    auto got3 = co_await one_bad_request(port, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n");
    CHECK(got3.status == 400);
  }
  {
    auto got4 = co_await one_bad_request(port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n");
    CHECK(got4.status == 400);
  }
  {
    auto got5 = co_await one_bad_request(port, "GET / HTTP/2.0\r\nHost: t\r\n\r\n");
    CHECK(got5.status == 505);
  }
  {
    auto got6 = co_await one_bad_request(port, "GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(2000, 'x') + "\r\n\r\n");
    CHECK(got6.status == 431);
  }
  // 413 before the body: the client is still sending it, and still reads the
  // answer (the server drains before closing instead of resetting).
  {
    auto got7 = co_await one_bad_request(port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" +
                                            std::string(100000, 'x'));
    CHECK(got7.status == 413);
  }
  // A good request in front of a bad one is answered first.
  raw_client c = co_await raw_client::connect(port);
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nBAD\r\n\r\n");
  {
    auto got8 = co_await c.response();
    CHECK(got8.status == 200);
  }
  {
    auto got9 = co_await c.response();
    CHECK(got9.status == 400);
  }
  // The server is fine and holds no connection for any of them.
  raw_client ok = co_await raw_client::connect(port);
  ok.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  {
    auto got10 = co_await ok.response();
    CHECK(got10.status == 200);
  }
  co_await stop(srv);
}

aio::task<void> idle_and_slow_clients() {
  aio::http::server_options o = quick_options();
  o.keep_alive_timeout = 80ms;
  o.request_timeout = 150ms;
  aio::http::server srv = co_await start(o);
  // An idle keep-alive connection is closed quietly.
  raw_client idle = co_await raw_client::connect(srv.port());
  idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  {
    auto got11 = co_await idle.response();
    CHECK(got11.status == 200);
  }
  const auto t0 = aio::get_running_loop().time();
  {
    const bool got18 = co_await idle.closed_by_server();
    CHECK(got18);
  }
  CHECK(aio::get_running_loop().time() - t0 >= 70ms);
  // A connection that never sends anything, too.
  raw_client silent = co_await raw_client::connect(srv.port());
  {
    auto got19 = co_await silent.read_to_end();
    CHECK(got19 == "");
  }
  // A slow client trickling its head gets 408, even though bytes keep coming
  // (the deadline is per request, not per read).
  raw_client slow = co_await raw_client::connect(srv.port());
  const std::string head = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ";
  slow.send(head);
  bool answered = false;
  for (int i = 0; i < 20 && !answered; ++i) {
    co_await aio::sleep(20ms);
    try {
      slow.send("a");
    } catch (const std::exception&) {
      answered = true;
    }
    if (slow.writer.is_closing()) answered = true;
  }
  raw_response r = co_await slow.response();
  CHECK(r.status == 408);
  CHECK(aio::get_running_loop().time() - t0 < 1s);
  co_await aio::sleep(10ms);
  CHECK(srv.connections() == 0);
  co_await stop(srv);
}

aio::task<void> background_after_response() {
  std::vector<std::string> log;
  aio::future<void> done;
  background_log = &log;
  background_done = &done;
  aio::http::server srv = co_await start();
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("POST /register?email=ada%40example.com HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  raw_response r = co_await c.response();
  CHECK(r.body == R"({"registered":true})");
  CHECK(log == std::vector<std::string>{"responded"});  // the e-mail is not sent yet
  CHECK(srv.background_tasks_running() == 1);
  co_await done;
  CHECK(log == std::vector<std::string>{"responded", "email to ada@example.com: Welcome!"});
  // The same through req.background(); shutdown waits for it.
  c.send("POST /register2 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  {
    auto got12 = co_await c.response();
    CHECK(got12.body == "ok");
  }
  co_await stop(srv);
  CHECK(log.back() == "email to b@example.com: Hi");
  background_log = nullptr;
  background_done = nullptr;
}

aio::task<raw_response> request_on(raw_client* c, std::string bytes) {
  c->send(bytes);
  co_return co_await c->response();
}

aio::task<void> graceful_shutdown() {
  aio::http::server srv = co_await start();
  aio::future<void> serving = aio::create_task(srv.serve_forever());
  raw_client idle = co_await raw_client::connect(srv.port());
  idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  {
    auto got13 = co_await idle.response();
    CHECK(got13.status == 200);
  }
  raw_client busy = co_await raw_client::connect(srv.port());
  aio::future<raw_response> in_flight =
      aio::create_task(request_on(&busy, "GET /sleep?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n"));
  co_await aio::sleep(50ms);  // the slow request is in its handler
  CHECK(srv.connections() == 2);
  srv.shutdown();
  // The idle connection is closed at once; the listener is gone.
  {
    const bool got20 = co_await idle.closed_by_server();
    CHECK(got20);
  }
  bool refused = false;
  try {
    auto connecting = aio::open_connection("127.0.0.1", srv.port());
    (void)co_await std::move(connecting);
  } catch (const std::system_error&) {
    refused = true;
  }
  CHECK(refused);
  // The request in flight completes, told that the connection closes.
  raw_response r = co_await in_flight;
  CHECK(r.body == "slept 150");
  CHECK(r.headers.get("Connection") == "close");
  co_await serving;  // serve_forever returns once everything has finished
  CHECK(srv.connections() == 0);
}

aio::task<void> shutdown_by_signal() {
  aio::http::app app = make_app();
  aio::http::server_options o = quick_options();
  // serve() runs until SIGTERM; the signal arrives from "outside" 100 ms in.
  auto send_signal = []() -> aio::task<void> {
    co_await aio::sleep(100ms);
    ::kill(::getpid(), SIGTERM);
  };
  const auto t0 = aio::get_running_loop().time();
  auto serving = aio::http::serve(app, "127.0.0.1", 0, o);
  auto signalling = send_signal();
  co_await aio::gather(std::move(serving), std::move(signalling));
  CHECK(aio::get_running_loop().time() - t0 >= 100ms);  // served until the signal came
}

aio::task<void> forced_after_shutdown_timeout() {
  aio::test::log_capture log;
  aio::http::server_options o = quick_options();
  o.shutdown_timeout = 100ms;
  aio::http::server srv = co_await start(o);
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET /sleep?ms=10000 HTTP/1.1\r\nHost: t\r\n\r\n");
  co_await aio::sleep(30ms);
  const auto t0 = aio::get_running_loop().time();
  srv.shutdown();
  co_await srv.wait_closed();
  CHECK(aio::get_running_loop().time() - t0 < 1s);
  {
    auto got21 = co_await c.read_to_end();
    CHECK(got21 == "");  // cancelled: no answer, the connection closed
  }
  CHECK(log.contains("graceful shutdown timed out"));
}

aio::task<void> garbage_client(std::uint16_t port, unsigned seed) {
  std::mt19937 rng(seed);
  raw_client c = co_await raw_client::connect(port);
  std::string junk;
  const int n = static_cast<int>(rng() % 3000);
  for (int i = 0; i < n; ++i) junk += static_cast<char>(rng() % 256);
  if (seed % 3 == 0) junk = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab";  // truncated, then gone
  if (seed % 3 == 1) junk = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + junk;
  try {
    c.send(junk);
    if (seed % 2 == 0) {
      c.writer.close();  // hang up without reading
    } else {
      (void)co_await c.read_to_end();
    }
  } catch (const std::exception&) {
    // A reset from the server is a fine answer to garbage.
  }
}

aio::task<void> garbage_does_not_leak() {
  aio::http::server_options o = quick_options();
  o.keep_alive_timeout = 100ms;
  o.request_timeout = 100ms;
  aio::http::server srv = co_await start(o);
  std::vector<aio::task<void>> clients;
  for (unsigned i = 0; i < 60; ++i) clients.push_back(garbage_client(srv.port(), i));
  co_await aio::gather(std::move(clients));
  for (int i = 0; i < 100 && srv.connections() > 0; ++i) co_await aio::sleep(10ms);
  CHECK(srv.connections() == 0);
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  {
    auto got14 = co_await c.response();
    CHECK(got14.status == 200);
  }
  co_await stop(srv);
}

/// Raw bytes from `c` until `c.buffer` holds `terminator` (or end of stream).
aio::task<std::string> read_until(raw_client& c, std::string terminator) {
  for (;;) {
    const auto at = c.buffer.find(terminator);
    if (at != std::string::npos) {
      std::string got = c.buffer.substr(0, at + terminator.size());
      c.buffer.erase(0, at + terminator.size());
      co_return got;
    }
    std::string data = co_await c.reader.read(65536);
    if (data.empty()) co_return std::exchange(c.buffer, std::string());
    c.buffer += data;
  }
}

std::string head_of(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n") + 4); }
std::string after_head(const std::string& raw) { return raw.substr(raw.find("\r\n\r\n") + 4); }

aio::task<void> stream_chunks_on_the_wire() {
  aio::http::server srv = co_await start();
  streams = {};
  raw_client c = co_await raw_client::connect(srv.port());
  // HTTP/1.1: one chunk per non-empty piece, then the last chunk.
  c.send("GET /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string raw = co_await read_until(c, "\r\n0\r\n\r\n");
  const std::string head = head_of(raw);
  CHECK(head.find("HTTP/1.1 200 OK\r\n") == 0);
  CHECK(head.find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(head.find("\r\nContent-Type: text/plain\r\n") != std::string::npos);
  CHECK(after_head(raw) == "8\r\npiece 1\n\r\n8\r\npiece 2\n\r\n8\r\npiece 3\n\r\n0\r\n\r\n");
  CHECK(c.buffer.empty());
  // Kept alive: the next request on the same connection works, and so does
  // another stream, parsed by the response parser.
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /stream?n=12 HTTP/1.1\r\nHost: t\r\n\r\n");
  raw_response plain = co_await c.response();
  CHECK(plain.body == "Hello, World!");
  raw_response again = co_await c.response();
  CHECK(again.headers.get("Transfer-Encoding") == "chunked");
  CHECK(again.keep_alive);
  std::string want;
  for (int i = 1; i <= 12; ++i) want += "piece " + std::to_string(i) + "\n";
  CHECK(again.body == want);
  // HEAD: the head only (the GET route's, framing included), the generator
  // never run, the connection still usable.
  const int started = streams.started;
  c.send("HEAD /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
  raw_response h = co_await c.response(true);
  CHECK(h.status == 200);
  CHECK(h.headers.get("Transfer-Encoding") == "chunked");
  CHECK(h.body.empty());
  CHECK(streams.started == started);
  c.send("GET /stream?n=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const std::string last = co_await c.read_to_end();
  CHECK(last.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(after_head(last) == "8\r\npiece 1\n\r\n0\r\n\r\n");
  CHECK(c.buffer.empty());
  CHECK(streams.finished == streams.started);
  co_await stop(srv);
}

aio::task<void> stream_http10() {
  aio::http::server srv = co_await start();
  // HTTP/1.0 cannot take chunks: the body as it is, ended by the close
  // (even when the client asked to keep the connection).
  for (const std::string connection : {"", "Connection: keep-alive\r\n"}) {
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET /stream?n=3 HTTP/1.0\r\n" + connection + "\r\n");
    const std::string raw = co_await c.read_to_end();
    const std::string head = head_of(raw);
    CHECK(head.find("HTTP/1.0 200 OK\r\n") == 0);
    CHECK(head.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(head.find("Transfer-Encoding") == std::string::npos);
    CHECK(head.find("Content-Length") == std::string::npos);
    CHECK(after_head(raw) == "piece 1\npiece 2\npiece 3\n");
  }
  // HEAD over HTTP/1.0: no body, so the connection can stay.
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("HEAD /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  raw_response h = co_await c.response(true);
  CHECK(h.status == 200);
  CHECK(h.headers.get("Connection") == "keep-alive");
  c.send("GET / HTTP/1.0\r\n\r\n");
  raw_response r = co_await c.response();
  CHECK(r.body == "Hello, World!");
  co_await stop(srv);
}

aio::task<std::string> client_get_text(aio::http::client_session* session, std::string url) {
  auto getting = session->get(std::move(url));
  aio::http::client_response r = co_await std::move(getting);
  CHECK(r.status == 200);
  CHECK(r.headers.get("Transfer-Encoding") == "chunked");
  co_return co_await r.text();
}

aio::task<void> stream_to_aio_client() {
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  aio::http::client_options o;
  o.limits.max_body_bytes = 4 * 1024 * 1024;
  aio::http::client_session session{o};
  {
    const std::string text = co_await client_get_text(&session, base + "/stream?n=40");
    std::string want;
    for (int i = 1; i <= 40; ++i) want += "piece " + std::to_string(i) + "\n";
    CHECK(text == want);
  }
  {
    // 1 MiB in 16 pieces of 64 KiB.
    const std::string text = co_await client_get_text(&session, base + "/stream/big?count=16&size=65536");
    CHECK(text.size() == 1024 * 1024);
    CHECK(text == big_body(16, 65536));
  }
  {
    // 1 MiB in one piece, then 3 MiB in pieces of odd sizes.
    const std::string one = co_await client_get_text(&session, base + "/stream/big?count=1&size=1048576");
    CHECK(one == big_body(1, 1048576));
    const std::string odd = co_await client_get_text(&session, base + "/stream/big?count=97&size=32771");
    CHECK(odd == big_body(97, 32771));
  }
  CHECK(session.connections_opened() == 1);  // the chunked responses kept the connection
  session.close();
  co_await stop(srv);
}

aio::task<void> stream_generator_errors() {
  aio::test::log_capture logs;
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  {
    // After the head: the body is cut short (no last chunk), the connection closed.
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET /stream/fail?after=2 HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::string raw = co_await c.read_to_end();
    CHECK(raw.find("HTTP/1.1 200 OK\r\n") == 0);
    CHECK(after_head(raw) == "5\r\nok 0\n\r\n5\r\nok 1\n\r\n");
    CHECK(logs.contains("failed after the response began"));
    CHECK(logs.contains("the stream's source broke"));
  }
  {
    // aio's client sees an incomplete body, not a complete wrong one.
    aio::http::client_session session;
    auto getting = session.get(base + "/stream/fail?after=3");
    aio::http::client_response r = co_await std::move(getting);
    CHECK(r.status == 200);
    bool failed = false;
    try {
      (void)co_await r.text();
    } catch (const aio::http::client_error& e) {
      // "... the connection closed before the response was complete"
      failed = std::string(e.what()).find("before the response was complete") != std::string::npos;
    }
    CHECK(failed);
    session.close();
  }
  {
    // Before the first piece: the error response any handler error gets,
    // and the connection stays usable.
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET /stream/fail?after=0 HTTP/1.1\r\nHost: t\r\n\r\n");
    raw_response r = co_await c.response();
    CHECK(r.status == 500);
    CHECK(r.headers.get("Content-Length").has_value());
    CHECK(json::parse(r.body).at("detail") == json("Internal Server Error"));
    CHECK(logs.contains("exception in the body stream of GET /stream/fail"));
    c.send("GET /stream/refused HTTP/1.1\r\nHost: t\r\n\r\n");
    raw_response refused = co_await c.response();
    CHECK(refused.status == 409);
    CHECK(json::parse(refused.body).at("detail") == json("nothing to stream"));
    c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    raw_response ok = co_await c.response();
    CHECK(ok.body == "Hello, World!");
  }
  co_await stop(srv);
}

aio::task<void> stream_client_disconnects() {
  aio::http::server srv = co_await start();
  streams = {};
  {
    raw_client c = co_await raw_client::connect(srv.port());
    c.send("GET /stream/endless HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::string first = co_await read_until(c, "tick 2\n\r\n");
    CHECK(first.find("Transfer-Encoding: chunked") != std::string::npos);
    CHECK(srv.connections() == 1);
    c.writer.close();  // hang up mid-stream
  }
  for (int i = 0; i < 200 && (streams.closed_by_aclose == 0 || srv.connections() > 0); ++i) co_await aio::sleep(5ms);
  CHECK(streams.started == 1);
  CHECK(streams.closed_by_aclose == 1);  // closed with aclose(): its cleanup ran
  CHECK(streams.finished == 1);
  CHECK(srv.connections() == 0);
  // Still serving.
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET /stream?n=2 HTTP/1.1\r\nHost: t\r\n\r\n");
  raw_response r = co_await c.response();
  CHECK(r.body == "piece 1\npiece 2\n");
  co_await stop(srv);
}

aio::task<void> stream_back_pressure() {
  aio::http::server srv = co_await start();
  streams = {};
  constexpr std::size_t count = 1000;
  constexpr std::size_t size = 32 * 1024;  // 32 MB in all
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET /stream/big?count=1000&size=32768 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  (void)co_await read_until(c, "\r\n\r\n");
  // The client reads nothing: once the socket buffers are full the server
  // stops asking the generator for more.
  std::size_t produced = 0;
  for (int i = 0; i < 100; ++i) {
    co_await aio::sleep(20ms);
    if (streams.pieces_produced == produced) break;
    produced = streams.pieces_produced;
  }
  co_await aio::sleep(50ms);
  CHECK(streams.pieces_produced == produced);
  INFO("pieces produced while the client read nothing: " << produced);
  CHECK(produced < count / 2);  // kernel buffers and the writer's 64 KiB, not the whole body
  // Then it reads everything.
  const std::string rest = co_await c.read_to_end();
  CHECK(streams.pieces_produced == count);
  CHECK(rest.size() == count * (std::string("8000\r\n\r\n").size() + size) + 5);
  CHECK(rest.substr(rest.size() - 7) == "\r\n0\r\n\r\n");
  co_await stop(srv);
}

aio::task<void> stream_in_flight_at_shutdown() {
  aio::http::server srv = co_await start();
  raw_client c = co_await raw_client::connect(srv.port());
  c.send("GET /stream/slow?n=6&ms=20 HTTP/1.1\r\nHost: t\r\n\r\n");
  (void)co_await read_until(c, "slow 0\n");
  srv.shutdown();  // graceful: the stream in flight is finished first
  const std::string rest = co_await c.read_to_end();
  CHECK(rest.find("slow 5\n\r\n0\r\n\r\n") != std::string::npos);
  co_await srv.wait_closed();
  CHECK(srv.connections() == 0);
}

}  // namespace

TEST_CASE("streaming responses: one chunk per piece on the wire, keep-alive after, HEAD", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_chunks_on_the_wire());
}

TEST_CASE("streaming responses to HTTP/1.0: the body ends with the connection", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_http10());
}

TEST_CASE("streaming responses read by aio's client, 1 MiB and more intact", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_to_aio_client());
}

TEST_CASE("a failing body stream: 500 before the first piece, a truncated body after", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_generator_errors());
}

TEST_CASE("a client hanging up mid-stream closes the generator and frees the connection",
          "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_client_disconnects());
}

TEST_CASE("streaming responses wait for a slow client (back-pressure)", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_back_pressure());
}

TEST_CASE("graceful shutdown lets a stream in flight finish", "[http][server][socket][stream]") {
  aio::test::run_bounded(stream_in_flight_at_shutdown());
}

TEST_CASE("keep-alive, pipelined requests answered in order, HEAD, Connection: close", "[http][server][socket]") {
  aio::test::run_bounded(keep_alive_and_pipelining());
}

TEST_CASE("HTTP/1.0 and Expect: 100-continue", "[http][server][socket]") {
  aio::test::run_bounded(http10_and_expect_continue());
}

TEST_CASE("malformed and oversized requests get 400/413/431/505 and a closed connection", "[http][server][socket]") {
  aio::test::run_bounded(malformed_input());
}

TEST_CASE("idle and slow clients are closed after their timeouts", "[http][server][socket]") {
  aio::test::run_bounded(idle_and_slow_clients());
}

TEST_CASE("background tasks run after the response is sent", "[http][server][socket]") {
  aio::test::run_bounded(background_after_response());
}

TEST_CASE("graceful shutdown finishes requests in flight and closes idle connections", "[http][server][socket]") {
  aio::test::run_bounded(graceful_shutdown());
}

TEST_CASE("serve() shuts down gracefully on SIGTERM", "[http][server][socket]") {
  aio::test::run_bounded(shutdown_by_signal());
}

TEST_CASE("shutdown cancels what is left after shutdown_timeout", "[http][server][socket]") {
  aio::test::run_bounded(forced_after_shutdown_timeout());
}

TEST_CASE("garbage from many clients: no crash, no leaked connection", "[http][server][socket]") {
  aio::test::run_bounded(garbage_does_not_leak());
}

// --- driven by curl --------------------------------------------------------------------

namespace {

aio::task<aio::test::run_output> curl(std::vector<std::string> args) {
  auto running = aio::test::run_program("curl", std::move(args));
  co_return co_await std::move(running);
}

aio::task<void> curl_session() {
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  auto get_run = curl({"-sS", "-i", base + "/users/7?q=hi"});
  auto get = co_await std::move(get_run);
  CHECK(get.code == 0);
  CHECK(get.out.find("HTTP/1.1 200 OK\r\n") == 0);
  CHECK(get.out.find("\r\n\r\n{\"id\":\"7\",\"q\":\"hi\"}") != std::string::npos);
  auto post_run = curl({"-sS", "-H", "Content-Type: application/json", "-d", R"({"name":"Ada"})", base + "/echo"});
  auto post = co_await std::move(post_run);
  CHECK(post.code == 0);
  CHECK(post.out == R"({"name":"Ada","seen":true})");
  // Two URLs on one command line: curl reuses the keep-alive connection.
  auto two_run = curl({"-sS", "-v", base + "/", base + "/items"});
  auto two = co_await std::move(two_run);
  CHECK(two.code == 0);
  CHECK(two.out == "Hello, World![1,2,3]");
  CHECK(two.err.find("Re-using existing connection") != std::string::npos);
  // A chunked upload, and a large body with Expect: 100-continue.
  auto chunked_run = curl({"-sS", "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json",
                                "--data-binary", R"({"chunked":1})", base + "/echo"});
  auto chunked = co_await std::move(chunked_run);
  CHECK(chunked.out == R"({"chunked":1,"seen":true})");
  const std::string big = R"({"pad":")" + std::string(200000, 'x') + R"("})";
  auto big_post = aio::test::run_program("curl", {"-sS", "-H", "Expect: 100-continue", "--data-binary", "@-", "-o",
                                                  "/dev/null", "-w", "%{http_code}", base + "/echo"},
                                         big);
  auto big_result = co_await std::move(big_post);
  CHECK(big_result.code == 0);
  CHECK(big_result.out == "201");
  auto missing_run = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", base + "/missing"});
  auto missing = co_await std::move(missing_run);
  CHECK(missing.out == "404");
  co_await stop(srv);
}

}  // namespace

TEST_CASE("curl talks to the server: GET, POST JSON, keep-alive reuse, chunked, 100-continue", "[http][server][curl]") {
  if (!aio::test::have_program("curl")) FAIL("curl is not installed (scripts/test installs it: apt-get install curl)");
  aio::test::run_bounded(curl_session(), std::chrono::seconds(30));
}

namespace {

/// How many times `needle` occurs in `hay`.
std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

aio::task<void> curl_next_http10_head() {
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  // --next: three requests with different methods and options, all on the
  // one connection curl opened (it says it re-used it twice).
  auto next_run = curl({"-sS", "-v", base + "/", "--next", "-H", "Content-Type: application/json", "--data",
                        R"({"n":2})", base + "/echo", "--next", "-X", "DELETE", base + "/users/9"});
  auto next = co_await std::move(next_run);
  CHECK(next.code == 0);
  CHECK(next.out == R"(Hello, World!{"n":2,"seen":true}Hello, World!)");
  CHECK(count_of(next.err, "Re-using existing connection") == 2);
  CHECK(count_of(next.err, "Connected to 127.0.0.1") == 1);
  CHECK(count_of(next.err, "< HTTP/1.1 200 OK") == 2);
  CHECK(count_of(next.err, "< HTTP/1.1 201 Created") == 1);
  // A form POST with --data, and a chunked upload with --data (one chunk)
  // and from stdin (over 100 KB: curl sends 64 KiB chunks, reassembled in order).
  auto form_run = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data", "name=Ada&lang=en", base + "/echo"});
  auto form = co_await std::move(form_run);
  CHECK(form.out == "422");  // not JSON: FastAPI's answer
  auto chunked_run = curl({"-sS", "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json", "--data",
                           R"({"te":"chunked"})", base + "/echo"});
  auto chunked = co_await std::move(chunked_run);
  CHECK(chunked.code == 0);
  CHECK(chunked.out == R"({"te":"chunked","seen":true})");
  std::string many = R"({"xs":[)";
  for (int i = 0; i < 20000; ++i) many += (i ? "," : "") + std::to_string(i);
  many += "]}";
  auto stdin_run = aio::test::run_program("curl", {"-sS", "-H", "Transfer-Encoding: chunked", "-H",
                                                   "Content-Type: application/json", "--data-binary", "@-", base + "/echo"},
                                          many);
  auto from_stdin = co_await std::move(stdin_run);
  CHECK(from_stdin.code == 0);
  CHECK(from_stdin.out == many.substr(0, many.size() - 1) + R"(,"seen":true})");
  // HTTP/1.0: answered in 1.0, and the connection closed after it (curl
  // reports it is not kept); with Connection: keep-alive it is kept.
  auto old_run = curl({"-sS", "-v", "-i", "--http1.0", base + "/", base + "/items"});
  auto old = co_await std::move(old_run);
  CHECK(old.code == 0);
  CHECK(old.out.find("HTTP/1.0 200 OK\r\n") == 0);
  CHECK(old.out.find("Hello, World!HTTP/1.0 200 OK\r\n") != std::string::npos);
  CHECK(old.out.find("[1,2,3]") != std::string::npos);
  CHECK(count_of(old.err, "Connected to 127.0.0.1") == 2);
  CHECK(count_of(old.err, "Re-using existing connection") == 0);
  auto old_kept_run = curl({"-sS", "-v", "--http1.0", "-H", "Connection: keep-alive", base + "/", base + "/items"});
  auto old_kept = co_await std::move(old_kept_run);
  CHECK(old_kept.out == "Hello, World![1,2,3]");
  CHECK(count_of(old_kept.err, "Re-using existing connection") == 1);
  // HEAD (-I): the GET route's headers, no body, the connection reusable.
  auto head_run = curl({"-sS", "-v", "-I", base + "/", "--next", base + "/items"});
  auto head = co_await std::move(head_run);
  CHECK(head.code == 0);
  CHECK(head.out.find("HTTP/1.1 200 OK\r\n") == 0);
  std::string head_lower = head.out;
  for (char& ch : head_lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  CHECK(head_lower.find("\r\ncontent-length: 13\r\n") != std::string::npos);
  CHECK(head.out.find("Hello") == std::string::npos);
  CHECK(head.out.substr(head.out.size() - 7) == "[1,2,3]");
  CHECK(count_of(head.err, "Re-using existing connection") == 1);
  co_await stop(srv);
}

}  // namespace

namespace {

aio::task<void> curl_reads_streams() {
  aio::test::log_capture logs;  // the failing stream is reported
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  std::string want;
  for (int i = 1; i <= 20; ++i) want += "piece " + std::to_string(i) + "\n";
  // Two streams on one connection: curl decodes the chunks and reuses it.
  auto run = curl({"-sS", "-v", base + "/stream?n=20", base + "/stream/slow?n=3&ms=5"});
  auto got = co_await std::move(run);
  CHECK(got.code == 0);
  CHECK(got.out == want + "slow 0\nslow 1\nslow 2\n");
  CHECK(count_of(got.err, "< Transfer-Encoding: chunked") == 2);
  CHECK(count_of(got.err, "Re-using existing connection") == 1);
  // 1 MiB, and HTTP/1.0 (read until the close).
  auto big_run = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", base + "/stream/big"});
  auto big = co_await std::move(big_run);
  CHECK(big.code == 0);
  CHECK(big.out == "200 1048576");
  auto old_run = curl({"-sS", "--http1.0", base + "/stream?n=20"});
  auto old = co_await std::move(old_run);
  CHECK(old.code == 0);
  CHECK(old.out == want);
  // A stream that fails midway: curl says the transfer was cut short.
  auto cut_run = curl({"-sS", base + "/stream/fail?after=2"});
  auto cut = co_await std::move(cut_run);
  CHECK(cut.code == 18);  // CURLE_PARTIAL_FILE
  CHECK(cut.out == "ok 0\nok 1\n");
  CHECK(logs.contains("failed after the response began"));
  co_await stop(srv);
}

}  // namespace

TEST_CASE("curl reads streaming responses", "[http][server][curl][stream]") {
  if (!aio::test::have_program("curl")) FAIL("curl is not installed (scripts/test installs it: apt-get install curl)");
  aio::test::run_bounded(curl_reads_streams(), std::chrono::seconds(30));
}

TEST_CASE("curl talks to the server: --next on one connection, --data, chunked uploads, HTTP/1.0, HEAD",
          "[http][server][curl]") {
  if (!aio::test::have_program("curl")) FAIL("curl is not installed (scripts/test installs it: apt-get install curl)");
  aio::test::run_bounded(curl_next_http10_head(), std::chrono::seconds(30));
}

// --- driven by wrk ---------------------------------------------------------------------

namespace {

/// What wrk's report says (wrk 4.1: "N requests in 3.00s, ..."; the lines
/// "Socket errors: ..." and "Non-2xx or 3xx responses: N" appear only when
/// there were some).
struct wrk_report {
  long requests = -1;
  bool socket_errors = true;
  bool non_2xx = true;
};

wrk_report parse_wrk(const std::string& out) {
  wrk_report r;
  const auto at = out.find(" requests in ");
  if (at != std::string::npos) {
    auto begin = out.rfind('\n', at);
    begin = begin == std::string::npos ? 0 : begin + 1;
    r.requests = std::stol(out.substr(begin, at - begin));
  }
  r.socket_errors = out.find("Socket errors") != std::string::npos;
  r.non_2xx = out.find("Non-2xx") != std::string::npos;
  return r;
}

aio::task<void> wrk_load() {
  aio::http::server srv = co_await start();
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  // 20 keep-alive connections for 3 s: every request answered, no socket
  // error (connect, read, write, timeout), no status other than 2xx.
  auto loading = aio::test::run_program("wrk", {"-t1", "-c20", "-d3s", "--timeout", "2s", base + "/users/7?q=wrk"});
  const aio::test::run_output kept = co_await std::move(loading);
  INFO("wrk (keep-alive) said:\n" << kept.out << kept.err);
  CHECK(kept.code == 0);
  const wrk_report k = parse_wrk(kept.out);
  CHECK_FALSE(k.socket_errors);
  CHECK_FALSE(k.non_2xx);
  CHECK(k.requests > 1000);
  // A connection per request for 1 s (accept and close under load).
  auto churning = aio::test::run_program(
      "wrk", {"-t1", "-c10", "-d1s", "--timeout", "2s", "-H", "Connection: close", base + "/items"});
  const aio::test::run_output closed = co_await std::move(churning);
  INFO("wrk (Connection: close) said:\n" << closed.out << closed.err);
  CHECK(closed.code == 0);
  const wrk_report c = parse_wrk(closed.out);
  CHECK_FALSE(c.socket_errors);
  CHECK_FALSE(c.non_2xx);
  CHECK(c.requests > 100);
  // wrk is gone: so are its connections, and the server still answers.
  for (int i = 0; i < 100 && srv.connections() > 0; ++i) co_await aio::sleep(10ms);
  CHECK(srv.connections() == 0);
  raw_client after = co_await raw_client::connect(srv.port());
  after.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  {
    auto answered = co_await after.response();
    CHECK(answered.body == "Hello, World!");
  }
  co_await stop(srv);
}

}  // namespace

TEST_CASE("wrk drives the server for a few seconds: no socket errors, only 2xx", "[http][server][wrk]") {
  if (!aio::test::have_program("wrk")) FAIL("wrk is not installed (scripts/test installs it: apt-get install wrk)");
  aio::test::run_bounded(wrk_load(), std::chrono::seconds(25));
}

// --- behind nginx (a reverse proxy) ----------------------------------------------------------

namespace {

/// nginx's proxy_pass to the aio server: / over HTTP/1.1 with upstream
/// keep-alive (the upstream aio_upstream), /v10/ over HTTP/1.0 with a
/// connection per request (nginx's default; straight to the address, as a
/// keep-alive upstream would lend it its kept connection). Request bodies
/// are buffered by nginx and sent with a length.
std::string proxy_locations(std::uint16_t port) {
  return R"NGINX(
    location / {
      proxy_pass http://aio_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /v10/ {
      proxy_pass http://127.0.0.1:)NGINX" +
         std::to_string(port) + R"NGINX(/;
    }
)NGINX";
}

aio::task<void> through_nginx(aio::test::nginx_server& ng, aio::http::server srv) {
  aio::http::client_session session;
  for (int i = 0; i < 5; ++i) {
    auto getting = session.get(ng.url("/users/" + std::to_string(i) + "?q=nginx"));
    aio::http::client_response r = co_await std::move(getting);
    CHECK(r.status == 200);
    CHECK(r.headers.get("Server").value_or("").rfind("nginx/", 0) == 0);
    const json j = co_await r.json();
    CHECK(j == json(json::object{{"id", std::to_string(i)}, {"q", "nginx"}}));
  }
  // nginx kept one upstream connection to us for all of them.
  CHECK(srv.connections() == 1);
  aio::http::headers json_type{{"Content-Type", "application/json"}};
  auto posting = session.post(ng.url("/echo"), R"({"via":"nginx"})", json_type);
  aio::http::client_response created = co_await std::move(posting);
  CHECK(created.status == 201);
  {
    const std::string body = co_await created.text();
    CHECK(body == R"({"via":"nginx","seen":true})");
  }
  // Errors pass through, with FastAPI's JSON body.
  auto missing_get = session.get(ng.url("/nope"));
  aio::http::client_response missing = co_await std::move(missing_get);
  CHECK(missing.status == 404);
  {
    const std::string body = co_await missing.text();
    CHECK(body == R"({"detail":"Not Found"})");
  }
  // HEAD through the proxy: the GET route's length, no body.
  auto heading = session.head(ng.url("/"));
  aio::http::client_response head = co_await std::move(heading);
  CHECK(head.headers.get("Content-Length") == "13");
  {
    const std::string none = co_await head.text();
    CHECK(none.empty());
  }
  // A chunked upload from curl: nginx reads it and sends it on with a length.
  auto chunked_run = aio::test::run_program(
      "curl", {"-sS", "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json", "--data",
               R"({"through":"nginx"})", ng.url("/echo")});
  auto chunked = co_await std::move(chunked_run);
  CHECK(chunked.code == 0);
  CHECK(chunked.out == R"({"through":"nginx","seen":true})");
  CHECK(srv.connections() == 1);
  // HTTP/1.0 upstream: nginx asks for Connection: close; we answer and close.
  for (int i = 0; i < 3; ++i) {
    auto getting = session.get(ng.url("/v10/items"));
    aio::http::client_response r = co_await std::move(getting);
    CHECK(r.status == 200);
    const std::string body = co_await r.text();
    CHECK(body == "[1,2,3]");
  }
  for (int i = 0; i < 100 && srv.connections() > 1; ++i) co_await aio::sleep(10ms);
  CHECK(srv.connections() == 1);  // only the kept HTTP/1.1 one
  // Load through the proxy for a second: nothing lost on the way.
  auto loading = aio::test::run_program("wrk", {"-t1", "-c10", "-d1s", "--timeout", "2s", ng.url("/items")});
  const aio::test::run_output load = co_await std::move(loading);
  INFO("wrk through nginx said:\n" << load.out << load.err);
  CHECK(load.code == 0);
  CHECK(load.out.find("Socket errors") == std::string::npos);
  CHECK(load.out.find("Non-2xx") == std::string::npos);
  session.close();
  // Graceful shutdown closes nginx's idle upstream connections too.
  co_await stop(srv);
  CHECK(ng.error_log().find("[alert]") == std::string::npos);
}

aio::task<void> behind_nginx() {
  aio::http::server srv = co_await start();
  const std::string upstream =
      "  upstream aio_upstream { server 127.0.0.1:" + std::to_string(srv.port()) + "; keepalive 4; }";
  aio::test::nginx_server ng{proxy_locations(srv.port()), upstream};
  co_await aio::test::with_nginx(ng, through_nginx, srv);
}

}  // namespace

TEST_CASE("behind nginx as a reverse proxy: upstream keep-alive, HTTP/1.0 upstream, bodies, load",
          "[http][server][nginx]") {
  if (!aio::test::have_program("curl")) FAIL("curl is not installed (scripts/test installs it: apt-get install curl)");
  if (!aio::test::have_program("wrk")) FAIL("wrk is not installed (scripts/test installs it: apt-get install wrk)");
  aio::test::run_bounded(behind_nginx());
}
