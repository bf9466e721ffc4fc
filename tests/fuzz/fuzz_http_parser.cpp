// libFuzzer target for aio::http's parsers: the request parser (fed whole, and
// cut in two at an offset the input chooses), the response parser, and the
// JSON reader. Malformed input must end in http_error / json_parse_error;
// anything else — a crash, a sanitizer report, another exception, a request
// parsed two ways differently — is a bug.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DAIO_BUILD_FUZZ=ON
//   cmake --build build-fuzz --target fuzz_http_parser
//   build-fuzz/src/http/fuzz_http_parser -max_total_time=60
#include <aio/http/json.hpp>
#include <aio/http/message.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct outcome {
  std::vector<aio::http::request> requests;
  std::optional<int> error;
};

/// Parses pipelined requests out of `data`, handed over in pieces of `step`.
outcome parse_requests(std::string_view data, std::size_t step) {
  aio::http::limits l;
  l.max_head_bytes = 2048;
  l.max_header_count = 20;
  l.max_body_bytes = 4096;
  aio::http::request_parser p{l};
  outcome out;
  std::string pending;
  try {
    for (std::size_t pos = 0; pos < data.size(); pos += step) {
      pending += data.substr(pos, step);
      for (;;) {
        const std::size_t used = p.feed(pending);
        pending.erase(0, used);
        if (!p.complete()) break;
        out.requests.push_back(p.take());
        if (pending.empty()) break;
      }
    }
  } catch (const aio::http::http_error& e) {
    if (e.status() < 400 || e.status() > 599) std::abort();
    out.error = e.status();
  }
  return out;
}

bool same(const aio::http::request& a, const aio::http::request& b) {
  if (a.method != b.method || a.target != b.target || a.body != b.body || a.headers.size() != b.headers.size())
    return false;
  auto i = b.headers.begin();
  for (const auto& h : a.headers)
    if (h != *i++) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + bytes[0] % 16;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

  // However the bytes are cut, the same requests (or the same error) come out.
  const outcome whole = parse_requests(data, data.size() + 1);
  const outcome pieces = parse_requests(data, step);
  if (whole.error != pieces.error || whole.requests.size() != pieces.requests.size()) std::abort();
  for (std::size_t i = 0; i < whole.requests.size(); ++i)
    if (!same(whole.requests[i], pieces.requests[i])) std::abort();
  for (const auto& r : whole.requests) {
    (void)r.keep_alive();
    (void)r.query_param("a");
  }

  aio::http::response_parser rp;
  try {
    rp.feed(data);
    rp.finish();
    (void)rp.keep_alive();
  } catch (const aio::http::http_error&) {
  }

  try {
    const aio::http::json j = aio::http::json::parse(data);
    // What was read is written back, and reads back the same.
    if (!(aio::http::json::parse(j.dump()) == j)) std::abort();
  } catch (const aio::http::json_parse_error&) {
  } catch (const aio::http::json_type_error&) {
    // dump() of a number that overflowed to infinity ("1e999" is refused
    // by parse, so this should not happen; kept to tell it from a crash)
    std::abort();
  }
  return 0;
}
