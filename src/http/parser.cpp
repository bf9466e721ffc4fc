// HTTP/1.1 parsing (RFC 9112) and response writing.
//
// Strictness follows what request smuggling taught the field (llhttp's strict
// mode, nginx): a recipient that reads a message differently from the proxy in
// front of it can be made to see a request the proxy never saw. So anything
// that two implementations could frame differently is rejected with 400
// rather than guessed at: bare CR, obs-fold, whitespace before the colon, a
// Content-Length that is not digits or that disagrees with another, both
// Content-Length and Transfer-Encoding, chunk sizes with junk, chunk data not
// followed by CRLF. A bare LF ending a head line is accepted (RFC 9112 §2.2
// allows it, and nothing can hide in it); inside chunked framing CRLF is required.
#include <aio/http/message.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace aio::http {

http_error::http_error(int status, std::string detail)
    : std::runtime_error("HTTP " + std::to_string(status) + ": " + detail), status_(status), detail_(std::move(detail)) {}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

/// tchar (RFC 9110 §5.6.2): digits, letters and !#$%&'*+-.^_`|~, as a table.
constexpr std::array<bool, 256> tchar_table = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = t[static_cast<std::size_t>(c - 32)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_tchar(unsigned char c) noexcept { return tchar_table[c]; }

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  return true;
}

/// A field value may hold visible characters, SP, HTAB and obs-text; never
/// CR, LF, NUL or other controls (they are how headers get injected).
bool is_field_value(std::string_view s) noexcept {
  // Eight bytes at a time while none is below 0x20 or is 0x7f (a tab, which
  // is allowed, also stops this; the loop below decides).
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  while (s.size() >= 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data(), 8);
    const std::uint64_t y = x ^ (ones * 0x7f);
    if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs) break;
    s.remove_prefix(8);
  }
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad(std::string detail) { throw http_error(400, std::move(detail)); }

/// Where the head ends (one past its blank line) in `s`, searching from
/// `from`; npos if not yet. A line ends in LF, optionally preceded by CR.
std::size_t find_head_end(std::string_view s, std::size_t from) noexcept {
  std::size_t i = from;
  for (;;) {
    i = s.find('\n', i);
    if (i == std::string_view::npos) return i;
    if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
    ++i;
  }
}

/// Splits off the next line (without its LF and optional CR). A CR anywhere
/// else is a bare CR: 400.
std::string_view next_line(std::string_view& rest) {
  const std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find('\r') != std::string_view::npos) bad("bare CR in the message head");
  return line;
}

/// "HTTP/1.1" → 1 (the minor version); 505 for another major version.
int parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
      v[7] > '9')
    bad("malformed HTTP version \"" + std::string(v.substr(0, 16)) + "\"");
  if (v[5] != '1') throw http_error(505, "HTTP version " + std::string(v.substr(5)) + " is not supported (HTTP/1.x only)");
  return v[7] - '0';
}

/// A Content-Length header's value: digits only (a list of identical values
/// is allowed, RFC 9110 §8.6).
std::uint64_t parse_content_length(std::string_view value, std::optional<std::uint64_t> previous) {
  std::optional<std::uint64_t> result = previous;
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view part = trim_ows(value.substr(0, comma));
    if (part.empty() || part.size() > 19 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      bad("invalid Content-Length \"" + std::string(value.substr(0, 32)) + "\"");
    std::uint64_t n = 0;
    std::from_chars(part.data(), part.data() + part.size(), n);
    if (result && *result != n) bad("conflicting Content-Length values");
    result = n;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return *result;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// --- headers -------------------------------------------------------------------

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
  for (const auto& f : fields_)
    if (iequals(f.first, name)) return std::string_view(f.second);
  return std::nullopt;
}
std::string headers::get(std::string_view name, std::string_view fallback) const {
  const auto v = get(name);
  return std::string(v ? *v : fallback);
}
std::vector<std::string_view> headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : fields_)
    if (iequals(f.first, name)) out.emplace_back(f.second);
  return out;
}
void headers::set(std::string name, std::string value) {
  erase(name);
  add(std::move(name), std::move(value));
}
std::size_t headers::erase(std::string_view name) noexcept {
  const auto before = fields_.size();
  std::erase_if(fields_, [&](const value_type& f) { return iequals(f.first, name); });
  return before - fields_.size();
}

// --- request / response ----------------------------------------------------------

void request::clear() noexcept {
  method.clear();
  target.clear();
  path.clear();
  query.clear();
  version_minor = 1;
  headers.clear();
  std::string().swap(body);  // a large body is not kept for the next request
  path_params_.clear();
  background_ = http::background_tasks{};
}

bool request::keep_alive() const noexcept {
  const auto conn = headers.get("Connection");
  if (version_minor >= 1) return !(conn && has_token(*conn, "close"));
  return conn && has_token(*conn, "keep-alive");
}

std::optional<std::string> request::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq), true) == name)
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

const std::string& request::path_param(std::string_view name) const {
  for (const auto& p : path_params_)
    if (p.first == name) return p.second;
  throw std::out_of_range("aio::http::request::path_param: the route that matched " + path +
                          " has no parameter {" + std::string(name) + "}");
}

http::json request::json() const {
  try {
    return http::json::parse(body);
  } catch (const json_parse_error& e) {
    throw http_error(422, std::string("JSON decode error: ") + e.what());
  }
}

response::response(int status_code, std::string body_text, std::string content_type)
    : status(status_code), body(std::move(body_text)) {
  headers.add("Content-Type", std::move(content_type));
}
response response::text(std::string body_text, int status_code) {
  return response(status_code, std::move(body_text), "text/plain; charset=utf-8");
}
response response::json(const http::json& value, int status_code) {
  return response(status_code, value.dump(), "application/json");
}
response response::html(std::string body_text, int status_code) {
  return response(status_code, std::move(body_text), "text/html; charset=utf-8");
}
response response::stream(body_generator body, std::string content_type, int status_code) {
  response r(status_code);
  r.headers.add("Content-Type", std::move(content_type));
  r.body_stream = std::make_shared<body_generator>(std::move(body));
  return r;
}

void write_response(std::string& out, const response& r, int version_minor, bool keep_alive, bool head_request,
                    std::string_view extra) {
  using namespace std::string_view_literals;
  if (r.status < 200 || r.status > 999) throw http_error(500, "a handler returned status " + std::to_string(r.status));
  // The server decides framing and connection handling itself.
  auto skipped = [](std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection");
  };
  // Validate, and size the head so that it is written with one allocation at most.
  std::size_t fields = 0;
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name)) throw http_error(500, "a handler set an invalid header name \"" + name + "\"");
    if (!is_field_value(value))
      throw http_error(500, "a handler set header " + name + " to a value with CR, LF or another control character");
    if (!skipped(name)) fields += name.size() + value.size() + 4;
  }
  if (!is_field_value(r.reason)) throw http_error(500, "a handler set a reason phrase with control characters");
  const bool no_body = r.status == 204 || r.status == 304;
  const std::string_view reason = r.reason.empty() ? reason_phrase(r.status) : std::string_view(r.reason);
  // The framing header: Content-Length, or for a streaming response
  // Transfer-Encoding: chunked (HTTP/1.1) or nothing (HTTP/1.0: the body ends
  // with the connection).
  const bool streamed = r.body_stream != nullptr;
  char len[24];
  std::size_t len_size = 0;
  std::string_view framing;
  if (!no_body) {
    if (!streamed) {
      len_size = static_cast<std::size_t>(std::to_chars(len, len + sizeof len, r.body.size()).ptr - len);
      framing = "Content-Length: "sv;
    } else if (version_minor >= 1) {
      framing = "Transfer-Encoding: chunked"sv;
    } else if (!head_request) {
      keep_alive = false;
    }
  }
  const std::string_view connection = !keep_alive          ? "Connection: close\r\n"sv
                                      : version_minor == 0 ? "Connection: keep-alive\r\n"sv
                                                           : std::string_view();
  const bool with_body = !head_request && !no_body && !streamed;
  const std::size_t total = 13 + reason.size() + 2 + fields + (framing.empty() ? 0 : framing.size() + len_size + 2) +
                            connection.size() + extra.size() + 2 + (with_body ? r.body.size() : 0);

  // Written in place: one resize, then plain copies (fixed-size ones inline).
  const std::size_t start = out.size();
  out.resize(start + total);
  char* p = out.data() + start;
  auto put = [&p](std::string_view piece) {
    if (piece.empty()) return;  // its data() may be null
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  std::memcpy(p, version_minor >= 1 ? "HTTP/1.1 " : "HTTP/1.0 ", 9);
  p += 9;
  std::to_chars(p, p + 3, r.status);
  p[3] = ' ';
  p += 4;
  put(reason);
  std::memcpy(p, "\r\n", 2);
  p += 2;
  for (const auto& [name, value] : r.headers) {
    if (skipped(name)) continue;
    put(name);
    std::memcpy(p, ": ", 2);
    p += 2;
    put(value);
    std::memcpy(p, "\r\n", 2);
    p += 2;
  }
  if (len_size != 0) {
    std::memcpy(p, "Content-Length: ", 16);
    p += 16;
    put(std::string_view(len, len_size));
    std::memcpy(p, "\r\n", 2);
    p += 2;
  } else if (!framing.empty()) {
    put(framing);
    std::memcpy(p, "\r\n", 2);
    p += 2;
  }
  put(connection);
  put(extra);
  std::memcpy(p, "\r\n", 2);
  p += 2;
  if (with_body) put(r.body);
}

void write_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // a zero-size chunk would end the body
  char size[20];
  const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  const auto size_len = static_cast<std::size_t>(end - size);
  const std::size_t start = out.size();
  out.resize(start + size_len + 2 + data.size() + 2);
  char* p = out.data() + start;
  std::memcpy(p, size, size_len);
  p += size_len;
  std::memcpy(p, "\r\n", 2);
  p += 2;
  std::memcpy(p, data.data(), data.size());
  p += data.size();
  std::memcpy(p, "\r\n", 2);
}

void write_last_chunk(std::string& out) { out.append("0\r\n\r\n"); }

// --- the parsers -----------------------------------------------------------------

namespace detail {

void message_parser::reset_message() noexcept {
  state_ = state::head;
  framing_ = framing::none;
  chunk_ = chunk_state::size_line;
  started_ = false;
  close_delimited_ = false;
  remaining_ = 0;
  head_buf_.clear();
  line_buf_.clear();
  body_.clear();
  trailer_count_ = 0;
  blank_bytes_ = 0;
}

std::size_t message_parser::feed_head(std::string_view data) {
  std::size_t skipped = 0;
  if (!started_) {
    // RFC 9112 §2.2: ignore empty lines before the start line (some clients
    // send CRLF after a POST body).
    // At most 64 of them, counted across calls, so that the cut does not matter.
    while (skipped < data.size() && (data[skipped] == '\r' || data[skipped] == '\n') && blank_bytes_ < 64) {
      ++skipped;
      ++blank_bytes_;
    }
    data.remove_prefix(skipped);
    if (data.empty()) return skipped;
    started_ = true;
  }
  if (head_buf_.empty()) {
    const std::size_t end = find_head_end(data, 0);
    if (end == std::string_view::npos) {
      if (data.size() > limits_.max_head_bytes)
        throw http_error(431, "the request line and headers exceed " + std::to_string(limits_.max_head_bytes) + " bytes");
      head_buf_.assign(data);
      return skipped + data.size();
    }
    if (end > limits_.max_head_bytes)
      throw http_error(431, "the request line and headers exceed " + std::to_string(limits_.max_head_bytes) + " bytes");
    on_head(data.substr(0, end));
    return skipped + end;
  }
  const std::size_t old = head_buf_.size();
  // Never hold more than the limit (plus a terminator's worth) of a head.
  const std::size_t room = limits_.max_head_bytes + 4 - std::min(old, limits_.max_head_bytes + 4);
  head_buf_.append(data.substr(0, room));
  const std::size_t end = find_head_end(head_buf_, old >= 3 ? old - 3 : 0);
  if (end == std::string_view::npos) {
    if (head_buf_.size() > limits_.max_head_bytes)
      throw http_error(431, "the request line and headers exceed " + std::to_string(limits_.max_head_bytes) + " bytes");
    return skipped + std::min(data.size(), room);
  }
  if (end > limits_.max_head_bytes)
    throw http_error(431, "the request line and headers exceed " + std::to_string(limits_.max_head_bytes) + " bytes");
  head_buf_.resize(end);
  on_head(head_buf_);
  head_buf_.clear();
  return skipped + (end - old);
}

void message_parser::parse_fields(std::string_view lines, http::headers& out, bool trailers) {
  for (;;) {
    if (lines.empty()) bad("the message head does not end with an empty line");
    const std::string_view line = next_line(lines);
    if (line.empty()) return;
    if (line.front() == ' ' || line.front() == '\t')
      bad("obsolete line folding (a header line starting with whitespace) is not allowed");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) bad("header line without a colon");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) {
      if (!name.empty() && (name.back() == ' ' || name.back() == '\t')) bad("whitespace between a header name and its colon");
      bad("invalid header name \"" + std::string(name.substr(0, 64)) + "\"");
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) bad("control character in the value of header " + std::string(name));
    if (++trailer_count_ > limits_.max_header_count)
      throw http_error(431, "more than " + std::to_string(limits_.max_header_count) + " header fields");
    if (!trailers) out.add(std::string(name), std::string(value));
  }
}

void message_parser::frame_request(const http::headers& h, int version_minor) {
  std::optional<std::uint64_t> length;
  bool te = false;
  for (const auto& [name, value] : h) {
    if (iequals(name, "Content-Length")) {
      length = parse_content_length(value, length);
    } else if (iequals(name, "Transfer-Encoding")) {
      if (te) bad("more than one Transfer-Encoding header");
      te = true;
      if (version_minor == 0) bad("Transfer-Encoding in an HTTP/1.0 request");
      // Only "chunked" alone is understood; anything ending in chunked names a
      // coding we do not implement (501); anything else cannot be framed (400).
      const std::string_view v = trim_ows(value);
      if (!iequals(v, "chunked")) {
        const std::size_t comma = v.rfind(',');
        const std::string_view last = trim_ows(comma == std::string_view::npos ? v : v.substr(comma + 1));
        if (!iequals(last, "chunked")) bad("Transfer-Encoding \"" + std::string(v.substr(0, 64)) + "\" does not end with chunked");
        throw http_error(501, "Transfer-Encoding \"" + std::string(v.substr(0, 64)) + "\" is not supported (only chunked)");
      }
    }
  }
  if (te && length) bad("both Content-Length and Transfer-Encoding");
  if (te) {
    framing_ = framing::chunked;
    chunk_ = chunk_state::size_line;
  } else if (length && *length > 0) {
    if (*length > limits_.max_body_bytes)
      throw http_error(413, "the body (" + std::to_string(*length) + " bytes) exceeds " +
                                std::to_string(limits_.max_body_bytes) + " bytes");
    framing_ = framing::length;
    remaining_ = *length;
  } else {
    framing_ = framing::none;
  }
  trailer_count_ = 0;
}

void message_parser::frame_response(const http::headers& h, int status, bool head_request) {
  trailer_count_ = 0;
  if (head_request || (status >= 100 && status < 200) || status == 204 || status == 304) {
    framing_ = framing::none;
    return;
  }
  std::optional<std::uint64_t> length;
  std::optional<std::string_view> te;
  for (const auto& [name, value] : h) {
    if (iequals(name, "Content-Length")) length = parse_content_length(value, length);
    else if (iequals(name, "Transfer-Encoding")) te = value;
  }
  if (te) {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; a response
    // whose last coding is not chunked ends when the connection closes.
    close_delimited_ = length.has_value();
    const std::size_t comma = te->rfind(',');
    const std::string_view last = trim_ows(comma == std::string_view::npos ? *te : te->substr(comma + 1));
    if (iequals(last, "chunked")) {
      if (!iequals(trim_ows(*te), "chunked"))
        throw http_error(501, "response Transfer-Encoding \"" + std::string(*te) + "\" is not supported (only chunked)");
      framing_ = framing::chunked;
      chunk_ = chunk_state::size_line;
    } else {
      framing_ = framing::until_close;
      close_delimited_ = true;
    }
    return;
  }
  if (length) {
    if (*length > limits_.max_body_bytes)
      throw http_error(413, "the response body (" + std::to_string(*length) + " bytes) exceeds " +
                                std::to_string(limits_.max_body_bytes) + " bytes");
    framing_ = *length > 0 ? framing::length : framing::none;
    remaining_ = *length;
    return;
  }
  framing_ = framing::until_close;
  close_delimited_ = true;
}

std::size_t message_parser::feed_body(std::string_view data) {
  const std::size_t total = data.size();
  auto too_large = [&] {
    throw http_error(413, "the body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
  };
  while (state_ == state::body) {
    switch (framing_) {
      case framing::none:
        state_ = state::done;
        break;
      case framing::until_close:
        if (body_.size() + data.size() > limits_.max_body_bytes) too_large();
        body_.append(data);
        return total;
      case framing::length: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
        body_.append(data.substr(0, n));
        data.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = state::done;
        else return total;
        break;
      }
      case framing::chunked:
        switch (chunk_) {
          case chunk_state::size_line: {
            const std::size_t lf = data.find('\n');
            const std::string_view piece = data.substr(0, lf == std::string_view::npos ? data.size() : lf + 1);
            if (line_buf_.size() + piece.size() > 4096) bad("chunk size line too long");
            line_buf_.append(piece);
            data.remove_prefix(piece.size());
            if (lf == std::string_view::npos) return total;
            std::string_view line = line_buf_;
            if (line.size() < 2 || line[line.size() - 2] != '\r') bad("chunk size line not ended by CRLF");
            line.remove_suffix(2);
            // chunk-size [ BWS ";" chunk-ext ]
            std::size_t digits = 0;
            std::uint64_t size = 0;
            while (digits < line.size()) {
              const char c = line[digits];
              int v;
              if (c >= '0' && c <= '9') v = c - '0';
              else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
              else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
              else break;
              if (digits >= 15) bad("chunk size too large");
              size = size * 16 + static_cast<std::uint64_t>(v);
              ++digits;
            }
            if (digits == 0) bad("invalid chunk size \"" + std::string(line.substr(0, 32)) + "\"");
            std::string_view ext = line.substr(digits);
            while (!ext.empty() && (ext.front() == ' ' || ext.front() == '\t')) ext.remove_prefix(1);
            if (!ext.empty() && ext.front() != ';') bad("invalid chunk size \"" + std::string(line.substr(0, 32)) + "\"");
            if (!is_field_value(ext)) bad("control character in a chunk extension");
            line_buf_.clear();
            if (size > limits_.max_body_bytes || body_.size() + size > limits_.max_body_bytes) too_large();
            if (size == 0) {
              chunk_ = chunk_state::trailer;
            } else {
              remaining_ = size;
              chunk_ = chunk_state::data;
            }
            break;
          }
          case chunk_state::data: {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
            body_.append(data.substr(0, n));
            data.remove_prefix(n);
            remaining_ -= n;
            if (remaining_ > 0) return total;
            chunk_ = chunk_state::data_crlf;
            break;
          }
          case chunk_state::data_crlf: {
            while (!data.empty() && line_buf_.size() < 2) {
              line_buf_ += data.front();
              data.remove_prefix(1);
            }
            if (line_buf_.size() < 2) return total;
            if (line_buf_ != "\r\n") bad("chunk data not followed by CRLF");
            line_buf_.clear();
            chunk_ = chunk_state::size_line;
            break;
          }
          case chunk_state::trailer: {
            // The trailer section: header lines, then an empty line.
            const std::size_t before = line_buf_.size();
            line_buf_.append(data.substr(0, limits_.max_head_bytes + 4 - std::min(before, limits_.max_head_bytes + 4)));
            std::size_t end;
            if (line_buf_.size() >= 2 && line_buf_.compare(0, 2, "\r\n") == 0) end = 2;
            else if (!line_buf_.empty() && line_buf_[0] == '\n') bad("chunked trailer not ended by CRLF");
            else end = find_head_end(line_buf_, before >= 3 ? before - 3 : 0);
            if (end == std::string::npos) {
              if (line_buf_.size() > limits_.max_head_bytes)
                throw http_error(431, "the chunked trailer section exceeds " + std::to_string(limits_.max_head_bytes) + " bytes");
              return total;
            }
            http::headers ignored;
            parse_fields(std::string_view(line_buf_).substr(0, end), ignored, true);
            data.remove_prefix(end - before);
            line_buf_.clear();
            state_ = state::done;
            break;
          }
        }
        break;
    }
  }
  return total - data.size();
}

}  // namespace detail

// --- request_parser --------------------------------------------------------------

void request_parser::on_head(std::string_view head) {
  std::string_view rest = head;
  const std::string_view line = next_line(rest);
  // method SP request-target SP HTTP-version, single spaces.
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    bad("malformed request line \"" + std::string(line.substr(0, 64)) + "\"");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(method)) bad("invalid method \"" + std::string(method.substr(0, 32)) + "\"");
  if (target.empty()) bad("empty request target");
  for (const char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) bad("invalid character in the request target");
  }
  request_.version_minor = parse_version(line.substr(sp2 + 1));
  request_.method.assign(method);
  request_.target.assign(target);
  // origin-form "/p?q", absolute-form "http://host/p?q" (servers must accept
  // it), asterisk-form "*" (OPTIONS).
  std::string_view path_and_query = target;
  if (target.front() != '/') {
    if (target == "*") {
      path_and_query = target;
    } else {
      const std::size_t scheme = target.find("://");
      if (scheme == std::string_view::npos) bad("invalid request target \"" + std::string(target.substr(0, 64)) + "\"");
      const std::size_t slash = target.find('/', scheme + 3);
      path_and_query = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  const std::size_t q = path_and_query.find('?');
  request_.path.assign(path_and_query.substr(0, q));
  request_.query.assign(q == std::string_view::npos ? std::string_view() : path_and_query.substr(q + 1));
  const std::size_t hash = request_.query.find('#');
  if (hash != std::string::npos) request_.query.resize(hash);

  trailer_count_ = 0;
  parse_fields(rest, request_.headers, false);
  std::size_t hosts = 0;
  for (const auto& field : request_.headers)
    if (iequals(field.first, "Host")) ++hosts;
  if (hosts > 1) bad("more than one Host header");
  if (request_.version_minor >= 1 && hosts == 0) bad("HTTP/1.1 request without a Host header");
  frame_request(request_.headers, request_.version_minor);
  const auto expect = request_.headers.get("Expect");
  expect_continue_ = request_.version_minor >= 1 && expect && iequals(trim_ows(*expect), "100-continue");
  state_ = state::body;
}

std::size_t request_parser::feed(std::string_view data) {
  std::size_t used = 0;
  if (state_ == state::head) {
    used = feed_head(data);
    if (state_ == state::head) return used;
  }
  if (state_ == state::body) {
    used += feed_body(data.substr(used));
    if (state_ == state::done) request_.body = std::move(body_);
  }
  return used;
}

void request_parser::finish() const {
  if (started_ && state_ != state::done) bad("the connection closed in the middle of a request");
}

request request_parser::take() {
  request r = std::move(request_);
  reset();
  return r;
}

void request_parser::reset() noexcept {
  reset_message();
  request_.clear();
  expect_continue_ = false;
}

// --- response_parser -------------------------------------------------------------

void response_parser::on_head(std::string_view head) {
  std::string_view rest = head;
  const std::string_view line = next_line(rest);
  // HTTP-version SP status-code SP [ reason-phrase ]
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
    bad("malformed status line \"" + std::string(line.substr(0, 64)) + "\"");
  head_.version_minor = parse_version(line.substr(0, 8));
  const std::string_view code = line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) || code[0] == '0')
    bad("malformed status code \"" + std::string(code) + "\"");
  head_.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  head_.reason.assign(line.size() > 13 ? line.substr(13) : std::string_view());
  if (!is_field_value(head_.reason)) bad("control character in the reason phrase");
  head_.headers.clear();
  trailer_count_ = 0;
  parse_fields(rest, head_.headers, false);
  frame_response(head_.headers, head_.status, head_request_);
  state_ = state::body;
}

std::size_t response_parser::feed(std::string_view data) {
  std::size_t used = 0;
  if (state_ == state::head) {
    used = feed_head(data);
    if (state_ == state::head) return used;
  }
  if (state_ == state::body) used += feed_body(data.substr(used));
  return used;
}

void response_parser::finish() {
  if (state_ == state::body && framing_ == framing::until_close) {
    state_ = state::done;
    return;
  }
  if (state_ != state::done) bad("the connection closed before the response was complete");
}

bool response_parser::keep_alive() const noexcept {
  if (close_delimited_) return false;
  const auto conn = head_.headers.get("Connection");
  if (head_.version_minor >= 1) return !(conn && has_token(*conn, "close"));
  return conn && has_token(*conn, "keep-alive");
}

void response_parser::reset() noexcept {
  reset_message();
  head_ = response_head{};
}

}  // namespace aio::http
