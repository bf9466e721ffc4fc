// Tests for aio/http/client.hpp: URLs (https:// refused with a clear "TLS is
// not supported"), and the client session against servers no one here wrote
// — Python's `python3 -m http.server` (HTTP/1.0, a connection per request),
// a keep-alive HTTP/1.1 server built on Python's http.server module, and
// nginx (tests/support/nginx.hpp), each started by the test on 127.0.0.1
// with a free port — for text, HEAD, 404 and raise_for_status, chunked
// bodies, POST, keep-alive reuse (seen by nginx too, through $connection),
// a server's Connection: close, the total and per-host connection limits,
// timeouts composed with wait_for; then against aio's own server for stale
// pooled connections, JSON, header injection, unread bodies and refused
// connections. nginx is required: without it the nginx tests fail.
#include <aio/http/client.hpp>

#include "support/catch.hpp"
#include "support/http_support.hpp"
#include "support/nginx.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/http/server.hpp>
#include <aio/subprocess.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using aio::http::client_response;
using aio::http::client_session;
using aio::http::url;

static_assert(std::is_same_v<decltype(std::declval<client_session&>().get("")), aio::task<client_response>>);
static_assert(std::is_same_v<decltype(std::declval<client_response&>().text()), aio::task<std::string>>);
static_assert(std::is_base_of_v<std::invalid_argument, aio::http::invalid_url_error>);
static_assert(!std::is_copy_constructible_v<client_session>);

TEST_CASE("URLs: http only, hosts, ports, IPv6, targets", "[http][client][url]") {
  const url a = url::parse("http://example.com");
  CHECK(a.host == "example.com");
  CHECK(a.port == 80);
  CHECK(a.target == "/");
  CHECK(a.authority() == "example.com");
  const url b = url::parse("HTTP://127.0.0.1:8080/users/7?q=1#frag");
  CHECK(b.port == 8080);
  CHECK(b.target == "/users/7?q=1");
  CHECK(b.authority() == "127.0.0.1:8080");
  const url c = url::parse("http://[::1]:9000?x=1");
  CHECK(c.host == "::1");
  CHECK(c.target == "/?x=1");
  CHECK(c.authority() == "[::1]:9000");
  CHECK_THROWS_WITH(url::parse("https://example.com/"), Catch::Matchers::Contains("TLS is not supported"));
  CHECK_THROWS_AS(url::parse("HTTPS://example.com/"), aio::http::invalid_url_error);
  CHECK_THROWS_WITH(url::parse("ftp://example.com/"), Catch::Matchers::Contains("unsupported scheme"));
  CHECK_THROWS_AS(url::parse("example.com/path"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://:80/"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://host:0/"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://host:65536/"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://host:12ab/"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://user:pw@host/"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://host/a b"), aio::http::invalid_url_error);
  CHECK_THROWS_AS(url::parse("http://[::1/"), aio::http::invalid_url_error);
}

namespace {

/// A Python server started for the test: its process and the port it listens on.
struct python_server {
  aio::process proc;
  std::uint16_t port = 0;
};

/// Starts `python3 args...`, reads the port from its first line of output
/// (so it is listening by then), and returns it.
aio::task<python_server> start_python(std::vector<std::string> args) {
  aio::process_options o;
  o.stdout_mode = aio::redirect::pipe;
  o.stderr_mode = aio::redirect::devnull;
  auto starting = aio::create_subprocess_exec("python3", std::move(args), o);
  python_server s;
  s.proc = co_await std::move(starting);
  std::string line = co_await s.proc.std_out->readline();
  // "Serving HTTP on 127.0.0.1 port 41235 (http://...) ..." or just "41235".
  const auto at = line.find(" port ");
  const std::string digits = at == std::string::npos ? line : line.substr(at + 6);
  s.port = static_cast<std::uint16_t>(std::stoi(digits));
  co_return s;
}

aio::task<void> stop_python(python_server& s) {
  s.proc.terminate();
  (void)co_await s.proc.wait();
}

/// Python's http.server module with an HTTP/1.1 (keep-alive) handler: GET
/// answers with the client's port (to see reuse), /slow?ms=N sleeps, /chunked
/// sends a chunked body; POST echoes. Threaded, so requests run concurrently.
constexpr const char* keep_alive_server = R"PY(
import http.server, time, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/slow":
            time.sleep(int(urllib.parse.parse_qs(u.query)["ms"][0]) / 1000)
        if u.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = ("%s from %d" % (u.path, self.client_address[1])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type", self.headers.get("Content-Type", ""))
        self.end_headers()
        self.wfile.write(data)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
)PY";

/// The client port a keep-alive response names ("/x from 43210" → "43210").
std::string client_port_of(const std::string& body) { return body.substr(body.rfind(' ') + 1); }

struct temp_files {
  std::string dir;
  temp_files() {
    char tmpl[] = "/tmp/aio-http-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::ofstream(dir + "/hello.txt") << "Hello from Python's http.server\n";
    for (int i = 0; i < 5; ++i) std::ofstream(dir + "/file" + std::to_string(i) + ".txt") << "file " << i;
  }
  ~temp_files() {
    std::remove((dir + "/hello.txt").c_str());
    for (int i = 0; i < 5; ++i) std::remove((dir + "/file" + std::to_string(i) + ".txt").c_str());
    ::rmdir(dir.c_str());
  }
};

aio::task<std::string> fetch_text(client_session* session, std::string u) {
  auto getting = session->get(u);
  client_response r = co_await std::move(getting);
  r.raise_for_status();
  co_return co_await r.text();
}

aio::task<void> against_python_http_server(std::string dir) {
  std::vector<std::string> args{"-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir};
  python_server py = co_await start_python(args);
  const std::string base = "http://127.0.0.1:" + std::to_string(py.port);
  client_session session;
  {
    auto getting = session.get(base + "/hello.txt");
    client_response r = co_await std::move(getting);
    CHECK(r.status == 200);
    CHECK(r.version_minor == 0);  // SimpleHTTPRequestHandler speaks HTTP/1.0
    CHECK(r.headers.get("Content-Type") == "text/plain");
    CHECK(r.headers.get("server").value_or("").find("SimpleHTTP") == 0);
    const std::string text = co_await r.text();
    CHECK(text == "Hello from Python's http.server\n");
    const std::string again = co_await r.bytes();  // kept, as aiohttp keeps it
    CHECK(again == text);
  }
  {
    auto heading = session.head(base + "/hello.txt");
    client_response r = co_await std::move(heading);
    CHECK(r.status == 200);
    CHECK(r.headers.get("Content-Length") == "32");
    const std::string none = co_await r.text();
    CHECK(none.empty());
  }
  {
    auto getting = session.get(base + "/missing.txt");
    client_response r = co_await std::move(getting);
    CHECK(r.status == 404);
    CHECK_FALSE(r.ok());
    CHECK_THROWS_AS(r.raise_for_status(), aio::http::response_status_error);
    const std::string page = co_await r.text();
    CHECK(page.find("File not found") != std::string::npos);
  }
  // Five files fetched concurrently (the guide's fetch_multiple_urls).
  std::vector<aio::task<std::string>> fetches;
  for (int i = 0; i < 5; ++i) fetches.push_back(fetch_text(&session, base + "/file" + std::to_string(i) + ".txt"));
  std::vector<std::string> bodies = co_await aio::gather(std::move(fetches));
  for (int i = 0; i < 5; ++i) CHECK(bodies[static_cast<std::size_t>(i)] == "file " + std::to_string(i));
  // HTTP/1.0 without keep-alive: every request had a connection of its own,
  // and none is left open.
  CHECK(session.connections_opened() == 8);
  CHECK(session.open_connections() == 0);
  co_await stop_python(py);
}

aio::task<void> against_python_keep_alive_server() {
  std::vector<std::string> args{"-u", "-c", keep_alive_server};
  python_server py = co_await start_python(args);
  const std::string base = "http://127.0.0.1:" + std::to_string(py.port);
  {
    client_session session;
    // Reuse: ten requests in a row go over one connection.
    std::string first_port;
    for (int i = 0; i < 10; ++i) {
      std::string body = co_await fetch_text(&session, base + "/n" + std::to_string(i));
      CHECK(body.find("/n" + std::to_string(i) + " from ") == 0);
      if (i == 0) first_port = client_port_of(body);
      CHECK(client_port_of(body) == first_port);
    }
    CHECK(session.connections_opened() == 1);
    CHECK(session.idle_connections() == 1);
    // A chunked body, and a POST echoed back.
    const std::string chunked = co_await fetch_text(&session, base + "/chunked");
    CHECK(chunked == "hello chunked world");
    aio::http::headers h{{"Content-Type", "application/json"}};
    auto posting = session.post(base + "/echo", R"({"name":"Ada"})", h);
    client_response r = co_await std::move(posting);
    CHECK(r.headers.get("X-Content-Type") == "application/json");
    const aio::http::json j = co_await r.json();
    CHECK(j.at("name").as_string() == "Ada");
    CHECK(session.connections_opened() == 1);
  }
  {
    // limit=2: six concurrent slow requests share two connections, in three rounds.
    aio::http::client_options o;
    o.limit = 2;
    client_session session{o};
    const auto t0 = aio::get_running_loop().time();
    std::vector<aio::task<std::string>> fetches;
    for (int i = 0; i < 6; ++i) fetches.push_back(fetch_text(&session, base + "/slow?ms=100"));
    (void)co_await aio::gather(std::move(fetches));
    CHECK(aio::get_running_loop().time() - t0 >= 290ms);
    CHECK(session.connections_opened() == 2);
    CHECK(session.open_connections() == 2);
  }
  {
    // limit_per_host=1: the same three requests, one at a time per host;
    // another host name for the same server is another host.
    aio::http::client_options o;
    o.limit_per_host = 1;
    client_session session{o};
    std::vector<aio::task<std::string>> fetches;
    for (int i = 0; i < 3; ++i) fetches.push_back(fetch_text(&session, base + "/slow?ms=50"));
    for (int i = 0; i < 3; ++i)
      fetches.push_back(fetch_text(&session, "http://localhost:" + std::to_string(py.port) + "/slow?ms=50"));
    const auto t0 = aio::get_running_loop().time();
    (void)co_await aio::gather(std::move(fetches));
    CHECK(aio::get_running_loop().time() - t0 >= 140ms);
    CHECK(session.connections_opened() == 2);
  }
  {
    // A timeout composes with wait_for; the cancelled request's connection
    // is closed, not pooled, and the session goes on working.
    client_session session;
    bool timed_out = false;
    try {
      auto slow = fetch_text(&session, base + "/slow?ms=2000");
      (void)co_await aio::wait_for(std::move(slow), 100ms);
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(session.open_connections() == 0);
    const std::string ok = co_await fetch_text(&session, base + "/after");
    CHECK(ok.find("/after from") == 0);
  }
  co_await stop_python(py);
}

}  // namespace

TEST_CASE("the client against python3 -m http.server", "[http][client][python]") {
  if (!aio::test::have_program("python3")) FAIL("python3 is not installed (scripts/test installs it)");
  temp_files files;
  aio::test::run_bounded(against_python_http_server(files.dir));
}

TEST_CASE("the client against a keep-alive server from Python's http.server module", "[http][client][python]") {
  if (!aio::test::have_program("python3")) FAIL("python3 is not installed (scripts/test installs it)");
  aio::test::run_bounded(against_python_keep_alive_server());
}

// --- against nginx ---------------------------------------------------------------

namespace {

/// Locations of the nginx the tests start (beside its static files under /):
/// /ok answers any method with what it saw of the request (nginx reads and
/// drops the body), /ssi/ makes a chunked body (SSI output has no length),
/// /slow/ sends 4 KiB a second, /limited/ closes the connection after its
/// response (keepalive_requests already reached), /short/ closes it when idle
/// for 100 ms, /empty answers 204, /upload refuses bodies over 64 KiB (413).
constexpr const char* nginx_locations = R"NGINX(
    location = /ok {
      return 200 "method=$request_method length=$content_length te=$http_transfer_encoding\n";
    }
    location /ssi/ { ssi on; ssi_types *; gzip off; chunked_transfer_encoding on; }
    location /slow/ { limit_rate 4k; limit_rate_after 0; }
    location /limited/ { keepalive_requests 1; }
    location /short/ { keepalive_timeout 100ms; }
    location = /empty { return 204; }
    location = /upload { client_max_body_size 64k; return 200 "uploaded\n"; }
)NGINX";

/// 1 MiB of every byte value, the same each run.
const std::string& big_bytes() {
  static const std::string bytes = [] {
    std::mt19937 rng(20240601);
    std::string s(std::size_t{1} << 20, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  }();
  return bytes;
}

void write_nginx_tree(const aio::test::nginx_server& ng) {
  ng.write_file("small.txt", "Hello from nginx\n");
  ng.write_file("big.bin", big_bytes());
  for (int i = 0; i < 8; ++i) ng.write_file("files/f" + std::to_string(i) + ".txt", "file " + std::to_string(i));
  ng.write_file("ssi/page.shtml", R"(A<!--# echo var="request_method" -->B<!--# include virtual="/small.txt" -->C)");
  ng.write_file("slow/big.bin", big_bytes());
  ng.write_file("limited/x.txt", "x");
  ng.write_file("short/x.txt", "short");
  ng.write_file("ssi/big.shtml", R"([<!--# include virtual="/big.bin" -->])");
}

/// What a test looks at in a response from nginx.
struct fetched {
  int status = 0;
  aio::http::headers headers;
  std::string body;
  std::string conn;       // nginx's $connection: which connection served it
  int conn_requests = 0;  // $connection_requests: the how-manieth on it
};

aio::task<fetched> fetch(client_session* session, std::string method, std::string u, std::string body = {},
                         aio::http::headers extra = {}) {
  auto requesting = session->request(std::move(method), std::move(u), std::move(body), std::move(extra));
  client_response r = co_await std::move(requesting);
  fetched f;
  f.status = r.status;
  f.headers = r.headers;
  f.body = co_await r.text();
  f.conn = r.headers.get("X-Conn", "?");
  f.conn_requests = std::stoi(r.headers.get("X-Conn-Requests", "0"));
  co_return f;
}

aio::task<void> nginx_files_keep_alive_methods(aio::test::nginx_server& ng) {
  client_session session;
  {
    auto getting = session.get(ng.url("/small.txt"));
    client_response r = co_await std::move(getting);
    CHECK(r.status == 200);
    CHECK(r.version_minor == 1);
    CHECK(r.headers.get("Server").value_or("").rfind("nginx/", 0) == 0);
    CHECK(r.headers.get("Content-Type") == "text/plain");
    CHECK(r.headers.get("Content-Length") == "17");
    const std::string text = co_await r.text();
    CHECK(text == "Hello from nginx\n");
  }
  // A megabyte of every byte value comes through unchanged.
  const fetched big = co_await fetch(&session, "GET", ng.url("/big.bin"));
  CHECK(big.headers.get("Content-Length") == "1048576");
  CHECK(big.body.size() == big_bytes().size());
  CHECK(big.body == big_bytes());
  CHECK(session.connections_opened() == 1);
  // Keep-alive, as nginx sees it: the same connection, its request count going up.
  const std::string conn = big.conn;
  for (int i = 0; i < 5; ++i) {
    const fetched f = co_await fetch(&session, "GET", ng.url("/files/f" + std::to_string(i) + ".txt"));
    CHECK(f.body == "file " + std::to_string(i));
    CHECK(f.conn == conn);
    CHECK(f.conn_requests == 3 + i);
  }
  // 404 with nginx's HTML page; the connection stays open.
  {
    auto getting = session.get(ng.url("/missing.txt"));
    client_response r = co_await std::move(getting);
    CHECK(r.status == 404);
    CHECK_FALSE(r.ok());
    CHECK_THROWS_AS(r.raise_for_status(), aio::http::response_status_error);
    const std::string page = co_await r.text();
    CHECK(page.find("<title>404 Not Found</title>") != std::string::npos);
    CHECK(r.headers.get("X-Conn") == conn);
  }
  // HEAD: the GET's headers and no body; the next request on the same
  // connection shows the client did not wait for (or eat) a body.
  {
    auto heading = session.head(ng.url("/big.bin"));
    client_response r = co_await std::move(heading);
    CHECK(r.status == 200);
    CHECK(r.headers.get("Content-Length") == "1048576");
    const std::string none = co_await r.text();
    CHECK(none.empty());
  }
  const fetched after_head = co_await fetch(&session, "GET", ng.url("/small.txt"));
  CHECK(after_head.body == "Hello from nginx\n");
  CHECK(after_head.conn == conn);
  // A chunked body (SSI output has no length).
  const fetched ssi = co_await fetch(&session, "GET", ng.url("/ssi/page.shtml"));
  CHECK(ssi.headers.get("Transfer-Encoding") == "chunked");
  CHECK_FALSE(ssi.headers.contains("Content-Length"));
  CHECK(ssi.body == "AGETBHello from nginx\nC");
  CHECK(ssi.conn == conn);
  // Bodies go with a Content-Length (nginx reports it, and the next request
  // on the connection parses: the body was framed right). POST and PUT say
  // Content-Length: 0 when empty, DELETE sends none.
  const fetched post = co_await fetch(&session, "POST", ng.url("/ok"), "name=Ada&lang=en");
  CHECK(post.status == 200);
  CHECK(post.body == "method=POST length=16 te=\n");
  const fetched empty_post = co_await fetch(&session, "POST", ng.url("/ok"));
  CHECK(empty_post.body == "method=POST length=0 te=\n");
  const fetched put = co_await fetch(&session, "PUT", ng.url("/ok"), std::string(512 * 1024, 'p'));
  CHECK(put.body == "method=PUT length=524288 te=\n");
  const fetched del = co_await fetch(&session, "DELETE", ng.url("/ok"));
  CHECK(del.body == "method=DELETE length= te=\n");
  const fetched after_bodies = co_await fetch(&session, "GET", ng.url("/small.txt"));
  CHECK(after_bodies.status == 200);
  CHECK(after_bodies.conn == conn);
  CHECK(after_bodies.conn_requests == 16);
  CHECK(session.connections_opened() == 1);
  // nginx closes the connection after this response (Connection: close): the
  // client does not pool it, and the next request gets a new connection.
  {
    auto getting = session.get(ng.url("/limited/x.txt"));
    client_response r = co_await std::move(getting);
    CHECK(r.headers.get("Connection") == "close");
    const std::string x = co_await r.text();
    CHECK(x == "x");
  }
  CHECK(session.idle_connections() == 0);
  CHECK(session.open_connections() == 0);
  const fetched fresh = co_await fetch(&session, "GET", ng.url("/small.txt"));
  CHECK(fresh.conn != conn);
  CHECK(fresh.conn_requests == 1);
  CHECK(session.connections_opened() == 2);
}

aio::task<fetched> fetch_get(client_session* session, std::string u) {
  auto getting = fetch(session, "GET", std::move(u));
  co_return co_await std::move(getting);
}

aio::task<void> nginx_pool_and_timeouts(aio::test::nginx_server& ng) {
  {
    // limit_per_host=2: ten concurrent GETs (two of them a megabyte) share
    // two connections, and nginx saw just those two.
    aio::http::client_options o;
    o.limit_per_host = 2;
    client_session session{o};
    std::vector<aio::task<fetched>> gets;
    for (int i = 0; i < 8; ++i) gets.push_back(fetch_get(&session, ng.url("/files/f" + std::to_string(i) + ".txt")));
    gets.push_back(fetch_get(&session, ng.url("/big.bin")));
    gets.push_back(fetch_get(&session, ng.url("/big.bin")));
    std::vector<fetched> got = co_await aio::gather(std::move(gets));
    std::set<std::string> conns;
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].status == 200);
      conns.insert(got[i].conn);
      if (i < 8) CHECK(got[i].body == "file " + std::to_string(i));
      else CHECK(got[i].body == big_bytes());
    }
    CHECK(conns.size() == 2);
    CHECK(session.connections_opened() == 2);
    CHECK(session.idle_connections() == 2);
    // A body that comes too slowly (4 KiB/s): wait_for cancels the request
    // half-way; its connection is closed, not pooled; the session goes on
    // with the other pooled connection.
    bool timed_out = false;
    try {
      auto slow = fetch_get(&session, ng.url("/slow/big.bin"));
      (void)co_await aio::wait_for(std::move(slow), 300ms);
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(session.open_connections() == 1);
    const fetched after = co_await fetch_get(&session, ng.url("/small.txt"));
    CHECK(after.body == "Hello from nginx\n");
    CHECK(conns.count(after.conn) == 1);
    CHECK(session.connections_opened() == 2);
  }
  {
    // limit_per_host=1 and the one connection busy with a slow body: a
    // request waiting for it times out while queued, gives its place up,
    // and once the slow one is cancelled the next request goes through.
    aio::http::client_options o;
    o.limit_per_host = 1;
    client_session session{o};
    aio::future<fetched> slow = aio::create_task(fetch_get(&session, ng.url("/slow/big.bin")));
    co_await aio::sleep(50ms);
    CHECK(session.open_connections() == 1);
    bool timed_out = false;
    try {
      auto queued = fetch_get(&session, ng.url("/small.txt"));
      (void)co_await aio::wait_for(std::move(queued), 200ms);
    } catch (const aio::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    slow.cancel();
    try {
      (void)co_await slow;
    } catch (const aio::cancelled_error&) {
    }
    CHECK(session.open_connections() == 0);
    auto next = fetch_get(&session, ng.url("/small.txt"));
    const fetched f = co_await aio::wait_for(std::move(next), 2s);
    CHECK(f.body == "Hello from nginx\n");
    CHECK(session.connections_opened() == 2);
  }
  CHECK(ng.running());
}

aio::task<void> nginx_edge_cases(aio::test::nginx_server& ng) {
  client_session session;
  // Responses without a body other than HEAD's: 204, and 304 for a
  // conditional GET with nginx's own ETag; the connection stays usable.
  const fetched first = co_await fetch(&session, "GET", ng.url("/small.txt"));
  const std::string etag = first.headers.get("ETag", "");
  CHECK_FALSE(etag.empty());
  const fetched empty = co_await fetch(&session, "GET", ng.url("/empty"));
  CHECK(empty.status == 204);
  CHECK(empty.body.empty());
  aio::http::headers conditional{{"If-None-Match", etag}};
  const fetched not_modified = co_await fetch(&session, "GET", ng.url("/small.txt"), {}, conditional);
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());
  // A range: 206 with just those bytes.
  aio::http::headers range{{"Range", "bytes=1000-1999"}};
  const fetched part = co_await fetch(&session, "GET", ng.url("/big.bin"), {}, range);
  CHECK(part.status == 206);
  CHECK(part.headers.get("Content-Range") == "bytes 1000-1999/1048576");
  CHECK(part.body == big_bytes().substr(1000, 1000));
  // HEAD of a chunked resource: Transfer-Encoding: chunked and no body at all.
  {
    auto heading = session.head(ng.url("/ssi/page.shtml"));
    client_response r = co_await std::move(heading);
    CHECK(r.status == 200);
    const std::string none = co_await r.text();
    CHECK(none.empty());
  }
  // A megabyte in a chunked body (SSI output of an included file).
  const fetched big_chunked = co_await fetch(&session, "GET", ng.url("/ssi/big.shtml"));
  CHECK(big_chunked.headers.get("Transfer-Encoding") == "chunked");
  CHECK(big_chunked.body.size() == big_bytes().size() + 2);
  CHECK(big_chunked.body == "[" + big_bytes() + "]");
  CHECK(big_chunked.conn == first.conn);
  CHECK(big_chunked.conn_requests == 6);
  CHECK(session.connections_opened() == 1);
  // A pooled connection nginx closed while it was idle (keepalive_timeout
  // 100ms in /short/) is replaced without an error.
  const fetched short1 = co_await fetch(&session, "GET", ng.url("/short/x.txt"));
  CHECK(short1.body == "short");
  co_await aio::sleep(400ms);
  const fetched short2 = co_await fetch(&session, "GET", ng.url("/short/x.txt"));
  CHECK(short2.status == 200);
  CHECK(short2.body == "short");
  CHECK(short2.conn != short1.conn);
  CHECK(session.connections_opened() == 2);
  // A body over nginx's client_max_body_size: 413 (sent before the body is
  // read), and the connection is not kept.
  const fetched too_big = co_await fetch(&session, "POST", ng.url("/upload"), std::string(1 << 20, 'u'));
  CHECK(too_big.status == 413);
  CHECK(too_big.headers.get("Connection") == "close");
  CHECK(session.open_connections() == 0);
  const fetched small_upload = co_await fetch(&session, "POST", ng.url("/upload"), "tiny");
  CHECK(small_upload.body == "uploaded\n");
}

}  // namespace

TEST_CASE("the client against nginx: static files, 1 MiB, keep-alive, 404, HEAD, chunked, bodies, close",
          "[http][client][nginx]") {
  aio::test::nginx_server ng{nginx_locations};
  write_nginx_tree(ng);
  aio::test::run_bounded(aio::test::with_nginx(ng, nginx_files_keep_alive_methods));
}

TEST_CASE("the client against nginx: 204, 304, 206, HEAD of chunked, 1 MiB chunked, idle close, 413",
          "[http][client][nginx]") {
  aio::test::nginx_server ng{nginx_locations};
  write_nginx_tree(ng);
  aio::test::run_bounded(aio::test::with_nginx(ng, nginx_edge_cases));
}

TEST_CASE("the client against nginx: concurrent gets under limit_per_host, timeouts with wait_for",
          "[http][client][nginx]") {
  aio::test::nginx_server ng{nginx_locations};
  write_nginx_tree(ng);
  aio::test::run_bounded(aio::test::with_nginx(ng, nginx_pool_and_timeouts));
}

// --- against aio's own server ------------------------------------------------------

namespace {

aio::task<aio::http::response> users(aio::http::request& req) {
  if (req.method == "POST") {
    aio::http::json body = req.json();
    body["id"] = 1;
    co_return aio::http::response::json(body, 201);
  }
  co_return aio::http::response::json(aio::http::json::array{aio::http::json::object{{"id", 1}}});
}
aio::task<aio::http::response> big(aio::http::request&) { co_return aio::http::response::text(std::string(1 << 20, 'z')); }
aio::task<aio::http::response> echo_header(aio::http::request& req) {
  co_return aio::http::response::text(req.headers.get("X-Echo", "-"));
}

aio::task<aio::http::server> start_aio(std::chrono::milliseconds keep_alive) {
  aio::http::app app;
  app.get("/users", users);
  app.post("/users", users);
  app.get("/big", big);
  app.get("/echo", echo_header);
  aio::http::server_options o;
  o.keep_alive_timeout = keep_alive;
  auto starting = aio::http::start_server(app, "127.0.0.1", 0, o);
  co_return co_await std::move(starting);
}

aio::task<void> against_aio_server() {
  aio::http::server srv = co_await start_aio(100ms);
  const std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  client_session session;
  // JSON both ways.
  aio::http::headers json_type{{"Content-Type", "application/json"}};
  auto posting = session.post(base + "/users", R"({"name":"Ada"})", json_type);
  client_response created = co_await std::move(posting);
  CHECK(created.status == 201);
  const aio::http::json user = co_await created.json();
  CHECK(user.at("id").as_int() == 1);
  // A pooled connection the server closed meanwhile (its keep-alive timeout)
  // is noticed and replaced.
  CHECK(session.idle_connections() == 1);
  co_await aio::sleep(250ms);
  const std::string list = co_await fetch_text(&session, base + "/users");
  CHECK(list == R"([{"id":1}])");
  CHECK(session.connections_opened() == 2);
  // A megabyte in the body.
  const std::string body = co_await fetch_text(&session, base + "/big");
  CHECK(body.size() == (1u << 20));
  // Headers go through; CR/LF in them is refused before anything is sent.
  aio::http::headers echo{{"X-Echo", "hello"}};
  auto echoing = session.get(base + "/echo", echo);
  client_response e = co_await std::move(echoing);
  const std::string echoed = co_await e.text();
  CHECK(echoed == "hello");
  bool refused = false;
  try {
    aio::http::headers evil{{"X-Echo", "a\r\nX-Injected: 1"}};
    auto injecting = session.get(base + "/echo", evil);
    (void)co_await std::move(injecting);
  } catch (const aio::value_error& err) {
    refused = std::string(err.what()).find("header injection") != std::string::npos;
  }
  CHECK(refused);
  // A response dropped with its body unread closes its connection.
  const std::size_t opened = session.connections_opened();
  {
    auto getting = session.get(base + "/big");
    client_response unread = co_await std::move(getting);
    CHECK(unread.status == 200);
    CHECK(session.open_connections() == 1);
  }
  CHECK(session.open_connections() == 0);
  const std::string again = co_await fetch_text(&session, base + "/users");
  CHECK(again == list);
  CHECK(session.connections_opened() == opened + 1);
  // https:// is refused with a clear message.
  bool tls = false;
  try {
    auto secure = session.get("https://127.0.0.1:" + std::to_string(srv.port()) + "/users");
    (void)co_await std::move(secure);
  } catch (const aio::http::invalid_url_error& err) {
    tls = std::string(err.what()).find("TLS is not supported") != std::string::npos;
  }
  CHECK(tls);
  // A closed session refuses requests.
  session.close();
  CHECK(session.open_connections() == 0);
  bool closed = false;
  try {
    auto late = session.get(base + "/users");
    (void)co_await std::move(late);
  } catch (const aio::invalid_state_error&) {
    closed = true;
  }
  CHECK(closed);
  srv.shutdown();
  co_await srv.wait_closed();
  // Nobody listens there now: a system_error naming the address.
  client_session other;
  bool refused_connect = false;
  try {
    auto getting = other.get(base + "/users");
    (void)co_await std::move(getting);
  } catch (const std::system_error& err) {
    refused_connect = std::string(err.what()).find("127.0.0.1:" + std::to_string(srv.port())) != std::string::npos;
  }
  CHECK(refused_connect);
  CHECK(other.open_connections() == 0);
}

}  // namespace

TEST_CASE("the client against aio's server: JSON, stale pooled connections, injection, unread bodies",
          "[http][client]") {
  aio::test::run_bounded(against_aio_server());
}
