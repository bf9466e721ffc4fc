// Tests for aio/http/message.hpp: the request and response parsers on bytes
// captured from real clients (curl 7.88, Python's http.client, wrk 4.1) and
// from nginx 1.22, fed whole, byte by byte and split at every offset; pipelining;
// keep-alive rules; and malformed input with the status each one gets
// (truncated, oversized, invalid chunk sizes, header injection, bare CR,
// obs-fold, bad or conflicting Content-Length, CL with TE). Plus headers,
// query and percent-decoding, and response writing.
#include <aio/http/message.hpp>

#include "support/catch.hpp"

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

static_assert(std::is_same_v<decltype(std::declval<aio::http::request_parser&>().feed(std::string_view{})), std::size_t>);
static_assert(std::is_same_v<decltype(std::declval<aio::http::request_parser&>().take()), aio::http::request>);
static_assert(std::is_base_of_v<std::runtime_error, aio::http::http_error>);
static_assert(std::is_move_constructible_v<aio::http::request_parser>);

using namespace std::string_view_literals;
using aio::http::http_error;
using aio::http::request;
using aio::http::request_parser;
using aio::http::response_parser;

namespace {

// Captured from the real programs against a socket that printed what it got
// (tests/support/capture_requests.py prints them again with the tools at hand):
// curl 7.88.1 (Debian 12), wrk 4.1.0 (debian/4.1.0-3+b2; it sends no
// User-Agent), Python 3.11.7's http.client.
constexpr std::string_view curl_get =
    "GET /users?page=2 HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
constexpr std::string_view curl_post_json =
    "POST /users HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\":\"Ada\",\"email\":\"ada@example.com\"}";
constexpr std::string_view curl_post_chunked =
    "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
    "b\r\nhello world\r\n0\r\n\r\n";
constexpr std::string_view python_chunked =
    "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:45085\r\nAccept-Encoding: identity\r\n"
    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
constexpr std::string_view python_get = "GET /users HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: identity\r\n\r\n";
// wrk's wrk.format(): the request line, Host, an empty line.
constexpr std::string_view wrk_get = "GET / HTTP/1.1\r\nHost: 127.0.0.1:44991\r\n\r\n";
// curl --data name=Ada&lang=en: Content-Length before the Content-Type curl adds.
constexpr std::string_view curl_post_form =
    "POST /form HTTP/1.1\r\nHost: 127.0.0.1:38755\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Content-Length: 16\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nname=Ada&lang=en";
// curl --http1.0: Host is sent, no Connection header (so not kept alive).
constexpr std::string_view curl_http10 =
    "GET /old HTTP/1.0\r\nHost: 127.0.0.1:55539\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
// curl -I
constexpr std::string_view curl_head =
    "HEAD / HTTP/1.1\r\nHost: 127.0.0.1:54641\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
// http.client's request("POST", "/users", body=..., headers={"Content-Type": ...})
constexpr std::string_view python_post_json =
    "POST /users HTTP/1.1\r\nHost: 127.0.0.1:58591\r\nAccept-Encoding: identity\r\nContent-Length: 15\r\n"
    "Content-Type: application/json\r\n\r\n{\"name\": \"Ada\"}";

// nginx 1.22.1's answers (Debian 12), captured off a socket: a chunked body
// (SSI output), its 404 page with Connection: close, and a HEAD response.
constexpr std::string_view nginx_chunked =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 01:00:35 GMT\r\n"
    "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
    "X-Conn: 1\r\nX-Conn-Requests: 1\r\n\r\n5\r\nAGETB\r\n6\r\nhello\n\r\n1\r\nC\r\n0\r\n\r\n";
constexpr std::string_view nginx_404 =
    "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 01:00:35 GMT\r\n"
    "Content-Type: text/html\r\nContent-Length: 153\r\nConnection: close\r\nX-Conn: 2\r\nX-Conn-Requests: 1\r\n\r\n"
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
    "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
constexpr std::string_view nginx_head =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 01:00:35 GMT\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: 6\r\nLast-Modified: Sat, 28 Nov 2026 00:55:40 GMT\r\n"
    "Connection: close\r\nETag: \"6b0a268c-6\"\r\nX-Conn: 3\r\nX-Conn-Requests: 1\r\nAccept-Ranges: bytes\r\n\r\n";

/// Feeds `bytes` in pieces of `step` bytes; returns the request.
request parse_in_steps(std::string_view bytes, std::size_t step, aio::http::limits l = {}) {
  request_parser p{l};
  std::size_t pos = 0;
  while (!p.complete()) {
    REQUIRE(pos < bytes.size());
    const std::string_view piece = bytes.substr(pos, step);
    const std::size_t used = p.feed(piece);
    pos += used;
    if (!p.complete()) REQUIRE(used == piece.size());
  }
  REQUIRE(pos == bytes.size());
  return p.take();
}

/// Every split: whole, each byte apart, and cut in two at every offset.
std::vector<request> parse_every_way(std::string_view bytes) {
  std::vector<request> out;
  out.push_back(parse_in_steps(bytes, bytes.size()));
  out.push_back(parse_in_steps(bytes, 1));
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    request_parser p;
    const std::size_t a = p.feed(bytes.substr(0, cut));
    REQUIRE(a == cut);
    const std::size_t b = p.feed(bytes.substr(cut));
    REQUIRE(a + b == bytes.size());
    REQUIRE(p.complete());
    out.push_back(p.take());
  }
  return out;
}

/// The status the parser rejects `bytes` with (fed whole, then byte by byte:
/// both must agree), or 0 if it accepts them.
int status_of(std::string_view bytes, aio::http::limits l = {}) {
  auto run = [&](std::size_t step) {
    request_parser p{l};
    try {
      std::size_t pos = 0;
      while (pos < bytes.size() && !p.complete()) pos += p.feed(bytes.substr(pos, step));
      return p.complete() ? 0 : -1;  // -1: waiting for more
    } catch (const http_error& e) {
      return e.status();
    }
  };
  const int whole = run(bytes.size());
  const int bytewise = run(1);
  CHECK(whole == bytewise);
  return whole;
}

}  // namespace

TEST_CASE("curl's GET parses, split any way", "[http][parser]") {
  for (const request& r : parse_every_way(curl_get)) {
    CHECK(r.method == "GET");
    CHECK(r.target == "/users?page=2");
    CHECK(r.path == "/users");
    CHECK(r.query == "page=2");
    CHECK(r.query_param("page") == "2");
    CHECK(r.version_minor == 1);
    CHECK(r.headers.get("host") == "127.0.0.1:45085");
    CHECK(r.headers.get("USER-AGENT") == "curl/7.88.1");
    CHECK(r.headers.size() == 3);
    CHECK(r.body.empty());
    CHECK(r.keep_alive());
  }
}

TEST_CASE("curl's POST with a JSON body parses, split any way", "[http][parser]") {
  for (const request& r : parse_every_way(curl_post_json)) {
    CHECK(r.method == "POST");
    CHECK(r.body == R"({"name":"Ada","email":"ada@example.com"})");
    CHECK(r.json().at("name").as_string() == "Ada");
  }
}

TEST_CASE("chunked bodies from curl and Python's http.client parse, split any way", "[http][parser]") {
  for (const request& r : parse_every_way(curl_post_chunked)) CHECK(r.body == "hello world");
  for (const request& r : parse_every_way(python_chunked)) {
    CHECK(r.body == "hello world");
    CHECK(r.headers.get("Accept-Encoding") == "identity");
  }
}

TEST_CASE("Python's and wrk's GETs parse", "[http][parser]") {
  for (const request& r : parse_every_way(python_get)) CHECK(r.path == "/users");
  for (const request& r : parse_every_way(wrk_get)) {
    CHECK(r.path == "/");
    CHECK(r.headers.size() == 1);
  }
}

TEST_CASE("curl's form POST, HTTP/1.0 GET and HEAD parse, split any way", "[http][parser]") {
  for (const request& r : parse_every_way(curl_post_form)) {
    CHECK(r.method == "POST");
    CHECK(r.headers.get("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(r.body == "name=Ada&lang=en");
    CHECK(r.keep_alive());
  }
  for (const request& r : parse_every_way(curl_http10)) {
    CHECK(r.version_minor == 0);
    CHECK(r.path == "/old");
    CHECK(r.headers.get("Host") == "127.0.0.1:55539");
    CHECK_FALSE(r.keep_alive());
  }
  for (const request& r : parse_every_way(curl_head)) {
    CHECK(r.method == "HEAD");
    CHECK(r.body.empty());
    CHECK(r.keep_alive());
  }
}

TEST_CASE("Python's POST with a JSON body parses, split any way", "[http][parser]") {
  for (const request& r : parse_every_way(python_post_json)) {
    CHECK(r.body == R"({"name": "Ada"})");
    CHECK(r.json().at("name").as_string() == "Ada");
    CHECK(r.headers.size() == 4);
  }
}

TEST_CASE("nginx's responses parse, split any way: chunked, 404 with close, HEAD", "[http][parser][response]") {
  struct parsed {
    aio::http::response_head head;
    std::string body;
    bool keep_alive;
  };
  auto parse = [](std::string_view bytes, std::size_t cut, bool head_request) {
    response_parser p;
    p.set_head_request(head_request);
    std::size_t used = p.feed(bytes.substr(0, cut));
    if (cut < bytes.size()) {
      REQUIRE(used == cut);
      used += p.feed(bytes.substr(cut));
    }
    REQUIRE(used == bytes.size());
    REQUIRE(p.complete());
    const bool keep = p.keep_alive();
    return parsed{p.head(), p.take_body(), keep};
  };
  for (std::size_t cut = 1; cut <= nginx_chunked.size(); ++cut) {
    const parsed r = parse(nginx_chunked, cut, false);
    CHECK(r.head.status == 200);
    CHECK(r.head.headers.get("Server") == "nginx/1.22.1");
    CHECK(r.body == "AGETBhello\nC");
    CHECK(r.keep_alive);
  }
  for (std::size_t cut = 1; cut <= nginx_404.size(); ++cut) {
    const parsed r = parse(nginx_404, cut, false);
    CHECK(r.head.status == 404);
    CHECK(r.head.reason == "Not Found");
    CHECK(r.body.size() == 153);
    CHECK_FALSE(r.keep_alive);
  }
  for (std::size_t cut = 1; cut <= nginx_head.size(); ++cut) {
    const parsed r = parse(nginx_head, cut, true);
    CHECK(r.head.headers.get("ETag") == "\"6b0a268c-6\"");
    CHECK(r.head.headers.get("Content-Length") == "6");
    CHECK(r.body.empty());
    CHECK_FALSE(r.keep_alive);
  }
}

TEST_CASE("pipelined requests: feed stops at each request's end", "[http][parser]") {
  std::string bytes;
  for (int i = 0; i < 3; ++i) bytes += std::string(wrk_get);
  bytes += std::string(curl_post_json);
  bytes += std::string(python_chunked);
  bytes += std::string(curl_head);
  bytes += std::string(python_post_json);
  bytes += std::string(curl_post_form);
  request_parser p;
  std::vector<request> got;
  std::string_view rest = bytes;
  while (!rest.empty()) {
    rest.remove_prefix(p.feed(rest));
    REQUIRE(p.complete());
    got.push_back(p.take());
  }
  REQUIRE(got.size() == 8);
  CHECK(got[2].path == "/");
  CHECK(got[3].body.size() == 40);
  CHECK(got[4].body == "hello world");
  CHECK(got[5].method == "HEAD");
  CHECK(got[6].body == R"({"name": "Ada"})");
  CHECK(got[7].body == "name=Ada&lang=en");
}

TEST_CASE("a chunked body with extensions and trailers", "[http][parser]") {
  const std::string_view bytes =
      "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;name=value\r\nWiki\r\n5 ;x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";
  for (const request& r : parse_every_way(bytes)) {
    CHECK(r.body == "Wikipedia in\r\n\r\nchunks.");
    CHECK_FALSE(r.headers.contains("Expires"));  // trailers are read and dropped
  }
}

TEST_CASE("keep-alive rules for HTTP/1.0 and 1.1", "[http][parser]") {
  auto parse = [](std::string_view b) { return parse_in_steps(b, b.size()); };
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive());
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive());
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n").keep_alive());
  CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").keep_alive());
  CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
  CHECK(parse("GET / HTTP/1.0\r\n\r\n").version_minor == 0);  // HTTP/1.0 needs no Host
}

TEST_CASE("tolerated: bare LF line ends, leading empty lines, absolute-form, Expect", "[http][parser]") {
  const request a = parse_in_steps("GET /a HTTP/1.1\nHost: x\n\n", 100);
  CHECK(a.path == "/a");
  CHECK(a.headers.get("Host") == "x");
  const request b = parse_in_steps("\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", 100);
  CHECK(b.path == "/b");
  const request c = parse_in_steps("GET http://example.com/c?d=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", 100);
  CHECK(c.path == "/c");
  CHECK(c.query == "d=1");
  request_parser p;
  const std::string_view expect = "POST /u HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  CHECK(p.feed(expect) == expect.size());
  CHECK(p.head_complete());
  CHECK_FALSE(p.complete());
  CHECK(p.expects_continue());
  p.feed("abc");
  CHECK(p.take().body == "abc");
  // Header values: surrounding whitespace trimmed, inner kept, obs-text allowed.
  const request d = parse_in_steps("GET / HTTP/1.1\r\nHost: x\r\nX-A:   two  words \t\r\nX-B: caf\xc3\xa9\r\n\r\n", 100);
  CHECK(d.headers.get("x-a") == "two  words");
  CHECK(d.headers.get("x-b") == "caf\xc3\xa9");
}

TEST_CASE("malformed request lines and versions", "[http][parser][malformed]") {
  CHECK(status_of("GET\r\n\r\n") == 400);
  CHECK(status_of("GET /  HTTP/1.1\r\nHost: x\r\n\r\n") == 400);      // two spaces
  CHECK(status_of("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("G@T / HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET nopath HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.x\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET / http/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/0.9\r\n\r\n") == 505);
  CHECK(status_of("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"sv) == 400);  // a TLS ClientHello
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);                  // no Host
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
}

TEST_CASE("header injection, bare CR and obs-fold are rejected", "[http][parser][malformed]") {
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n") == 400);           // bare CR
  CHECK(status_of("GET / HTTP/1.1\rHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n") == 400);             // obs-fold
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"sv) == 400);  // NUL
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n"sv) == 400);  // DEL
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n") == 400);                  // space before colon
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n") == 400);                      // empty name
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n") == 400);
}

TEST_CASE("Content-Length: bad, conflicting, with Transfer-Encoding", "[http][parser][malformed]") {
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc") == 0);  // identical: allowed
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n0\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
}

TEST_CASE("invalid chunk sizes and chunk framing", "[http][parser][malformed]") {
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(status_of(head + "zz\r\nab\r\n0\r\n\r\n") == 400);
  CHECK(status_of(head + "\r\nab\r\n0\r\n\r\n") == 400);                   // empty size
  CHECK(status_of(head + "-2\r\nab\r\n0\r\n\r\n") == 400);
  CHECK(status_of(head + "0x2\r\nab\r\n0\r\n\r\n") == 400);
  CHECK(status_of(head + "2 2\r\nab\r\n0\r\n\r\n") == 400);
  CHECK(status_of(head + "ffffffffffffffffff\r\n") == 400);                // overflows 64 bits
  CHECK(status_of(head + "2\nab\r\n0\r\n\r\n") == 400);                    // LF alone in chunked framing
  CHECK(status_of(head + "2\r\nabc\r\n0\r\n\r\n") == 400);                 // data longer than its size
  CHECK(status_of(head + "2\r\nab\r\n0\r\nX-T: a\rb\r\n\r\n") == 400);     // bare CR in a trailer
  CHECK(status_of(head + "2;ext\x01\r\nab\r\n0\r\n\r\n") == 400);
  CHECK(status_of(head + "2\r\nab\r\n0\r\n\r\n") == 0);
}

TEST_CASE("oversized heads get 431, oversized bodies 413", "[http][parser][limits]") {
  aio::http::limits small;
  small.max_head_bytes = 256;
  small.max_header_count = 5;
  small.max_body_bytes = 10;
  const std::string big_header = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n";
  CHECK(status_of(big_header, small) == 431);
  // Never terminated: still 431 once past the limit, not a wait forever.
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(300, 'a'), small) == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 6; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(status_of(many + "\r\n", small) == 431);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", small) == 413);  // before the body comes
  CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", small) == 0);
  const std::string chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(status_of(chunked + "6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n", small) == 413);  // counted across chunks
  CHECK(status_of(chunked + "fffffff\r\n", small) == 413);
  // The default limits are generous enough for real clients.
  CHECK(status_of(curl_post_json) == 0);
}

TEST_CASE("truncated requests: waiting, then finish() says 400", "[http][parser][malformed]") {
  for (const std::string_view full : {curl_get, curl_post_json, python_chunked, curl_post_form, python_post_json}) {
    for (std::size_t cut = 1; cut < full.size(); ++cut) {
      request_parser p;
      p.feed(full.substr(0, cut));
      REQUIRE_FALSE(p.complete());
      CHECK(p.started());
      try {
        p.finish();
        FAIL("finish() accepted a truncated request");
      } catch (const http_error& e) {
        CHECK(e.status() == 400);
      }
    }
  }
  request_parser idle;
  CHECK_NOTHROW(idle.finish());  // nothing started: a clean end of stream
  idle.feed("\r\n");
  CHECK_FALSE(idle.started());
}

TEST_CASE("response parser: Content-Length, chunked, until close, no body", "[http][parser][response]") {
  {
    response_parser p;
    const std::string_view bytes = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    for (char c : bytes) p.feed(std::string_view(&c, 1));
    REQUIRE(p.complete());
    CHECK(p.head().status == 200);
    CHECK(p.head().reason == "OK");
    CHECK(p.keep_alive());
    CHECK(p.take_body() == "hello");
  }
  {
    response_parser p;
    p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    REQUIRE(p.complete());
    CHECK(p.take_body() == "hello");
  }
  {
    // Python's http.server: HTTP/1.0, the body ends with the connection.
    response_parser p;
    p.feed("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\n\r\npartial ");
    p.feed("body");
    CHECK_FALSE(p.complete());
    p.finish();
    CHECK(p.complete());
    CHECK_FALSE(p.keep_alive());
    CHECK(p.take_body() == "partial body");
  }
  {
    response_parser p;
    p.set_head_request(true);
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    CHECK(p.complete());
  }
  for (const std::string_view status : {"204 No Content", "304 Not Modified", "100 Continue"}) {
    response_parser p;
    p.feed("HTTP/1.1 " + std::string(status) + "\r\n\r\n");
    CHECK(p.complete());
  }
  {
    response_parser p;  // a reason phrase may be empty
    p.feed("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n");
    CHECK(p.complete());
    CHECK(p.head().status == 404);
  }
  {
    response_parser p;
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    CHECK_THROWS_AS(p.finish(), http_error);
  }
  {
    response_parser p;
    CHECK_THROWS_AS(p.feed("HTTP/1.1 2000 OK\r\n\r\n"), http_error);
  }
  {
    response_parser p;
    CHECK_THROWS_AS(p.feed("SSH-2.0-OpenSSH_9.2\r\n\r\n"), http_error);
  }
}

TEST_CASE("headers compare names case-insensitively and keep repeats", "[http][headers]") {
  aio::http::headers h{{"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}};
  h.add("set-cookie", "b=2");
  CHECK(h.get("content-type") == "text/plain");
  CHECK(h.get_all("SET-COOKIE") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(h.get("missing", "fallback") == "fallback");
  h.set("SET-COOKIE", "c=3");
  CHECK(h.get_all("set-cookie").size() == 1);
  CHECK(h.erase("Content-type") == 1);
  CHECK_FALSE(h.contains("content-type"));
  CHECK(aio::http::has_token("keep-alive, Upgrade", "upgrade"));
  CHECK_FALSE(aio::http::has_token("keep-alive-ish", "keep-alive"));
}

TEST_CASE("query parameters and percent-decoding", "[http][request]") {
  request r;
  r.query = "q=hello+world&empty=&flag&path=%2Fa%2Fb&bad=%zz";
  CHECK(r.query_param("q") == "hello world");
  CHECK(r.query_param("empty") == "");
  CHECK(r.query_param("flag") == "");
  CHECK(r.query_param("path") == "/a/b");
  CHECK(r.query_param("bad") == "%zz");
  CHECK_FALSE(r.query_param("nope").has_value());
  CHECK(aio::http::percent_decode("a%20b+c") == "a b+c");
  CHECK_THROWS_AS(r.path_param("id"), std::out_of_range);
  r.body = "{not json";
  try {
    (void)r.json();
    FAIL("json() accepted a malformed body");
  } catch (const http_error& e) {
    CHECK(e.status() == 422);
    CHECK(e.detail().find("JSON decode error") == 0);
  }
}

TEST_CASE("write_response frames the response and refuses header injection", "[http][response]") {
  std::string out;
  aio::http::response r = aio::http::response::text("hi");
  aio::http::write_response(out, r, 1, true, false, "Server: t\r\n");
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nServer: t\r\n\r\nhi");
  out.clear();
  aio::http::write_response(out, r, 0, true, true);  // HTTP/1.0 keep-alive, HEAD: no body
  CHECK(out == "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
               "Connection: keep-alive\r\n\r\n");
  out.clear();
  aio::http::response none{204};
  aio::http::write_response(out, none, 1, false, false);
  CHECK(out == "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  aio::http::response evil = aio::http::response::text("x");
  evil.headers.add("X-Evil", "a\r\nSet-Cookie: stolen=1");
  out.clear();
  CHECK_THROWS_AS(aio::http::write_response(out, evil, 1, true, false), http_error);
  aio::http::response bad_status{42};
  CHECK_THROWS_AS(aio::http::write_response(out, bad_status, 1, true, false), http_error);
  // The parser reads back what the writer wrote.
  out.clear();
  aio::http::write_response(out, aio::http::response::json(aio::http::json::object{{"a", 1}}, 201), 1, true, false);
  response_parser p;
  p.feed(out);
  REQUIRE(p.complete());
  CHECK(p.head().status == 201);
  CHECK(p.head().headers.get("content-type") == "application/json");
  CHECK(p.take_body() == R"({"a":1})");
}

TEST_CASE("write_chunk and a streaming head: what the response parser reads back", "[http][response][stream]") {
  std::string out;
  aio::http::write_chunk(out, "hello");
  aio::http::write_chunk(out, "");  // nothing: a zero-size chunk would end the body
  aio::http::write_chunk(out, std::string(300, 'x'));
  CHECK(out == "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n");
  aio::http::write_last_chunk(out);
  CHECK(out.substr(out.size() - 5) == "0\r\n\r\n");
  const std::string chunks = out;

  // A streaming response's head: chunked for HTTP/1.1, unframed and closing for 1.0.
  aio::http::response s = aio::http::response::stream(aio::http::body_generator{}, "text/plain");
  REQUIRE(s.streaming());
  out.clear();
  aio::http::write_response(out, s, 1, true, false);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
  out += chunks;
  response_parser p;
  CHECK(p.feed(out) == out.size());
  REQUIRE(p.complete());
  CHECK(p.keep_alive());
  CHECK(p.take_body() == "hello" + std::string(300, 'x'));
  out.clear();
  aio::http::write_response(out, s, 0, true, false);
  CHECK(out == "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
  response_parser p10;
  p10.feed(out + "all of it");
  CHECK_FALSE(p10.complete());
  p10.finish();
  CHECK(p10.take_body() == "all of it");
  // HEAD over 1.0: no body, so the connection may stay.
  out.clear();
  aio::http::write_response(out, s, 0, true, true);
  CHECK(out == "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\r\n");
  // 204: no body, no framing.
  aio::http::response none = aio::http::response::stream(aio::http::body_generator{}, "text/plain", 204);
  out.clear();
  aio::http::write_response(out, none, 1, true, false);
  CHECK(out == "HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n");
}
