// docs/reference/http.md: the push parsers and http::headers.
#include <aio/http/message.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace http = aio::http;

int main() {
  // [parser]
  http::request_parser parser;
  std::string_view bytes =
      "POST /items?id=7 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";  // two pipelined requests
  while (!bytes.empty()) {
    std::size_t used = parser.feed(bytes);
    bytes.remove_prefix(used);
    if (parser.complete()) {
      http::request r = parser.take();
      std::printf("%s %s (path %s, query %s) body \"%s\"\n", r.method.c_str(), r.target.c_str(), r.path.c_str(),
                  r.query.c_str(), r.body.c_str());
    }
  }
  try {
    http::request_parser strict;
    (void)strict.feed("GET / HTTP/1.1\r\n\r\n");  // HTTP/1.1 without Host
  } catch (const http::http_error& e) {
    std::printf("http_error %d: %s\n", e.status(), e.detail().c_str());
  }
  // [/parser]

  // [headers]
  http::headers h{{"Set-Cookie", "a=1"}, {"Content-Type", "text/plain"}};
  h.add("set-cookie", "b=2");  // repeats are kept
  std::printf("%s; %zu cookies; has CONTENT-TYPE: %d\n", std::string(*h.get("content-type")).c_str(),
              h.get_all("Set-Cookie").size(), h.contains("CONTENT-TYPE"));
  // [/headers]
}
