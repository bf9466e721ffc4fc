#include <aio/http/json.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace aio::http {

json_parse_error::json_parse_error(const std::string& what_was_wrong, std::size_t at, std::size_t at_line,
                                   std::size_t at_column)
    : std::runtime_error("aio::http::json::parse: " + what_was_wrong + " at line " + std::to_string(at_line) +
                         ", column " + std::to_string(at_column) + " (offset " + std::to_string(at) + ")"),
      offset(at),
      line(at_line),
      column(at_column) {}

std::string_view to_string(json::kind k) noexcept {
  switch (k) {
    case json::kind::null: return "null";
    case json::kind::boolean: return "boolean";
    case json::kind::integer: return "integer";
    case json::kind::number: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "?";
}

// --- json_object ---------------------------------------------------------------

json_object::json_object(std::initializer_list<value_type> items) {
  items_.reserve(items.size());
  for (const auto& kv : items) set(kv.first, kv.second);
}

const json* json_object::find(std::string_view key) const noexcept {
  for (const auto& kv : items_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
json* json_object::find(std::string_view key) noexcept {
  for (auto& kv : items_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
json& json_object::operator[](std::string_view key) {
  if (json* v = find(key)) return *v;
  items_.emplace_back(std::string(key), json{});
  return items_.back().second;
}
void json_object::set(std::string key, json value) {
  if (json* v = find(key)) {
    *v = std::move(value);
    return;
  }
  items_.emplace_back(std::move(key), std::move(value));
}
bool json_object::erase(std::string_view key) {
  for (auto it = items_.begin(); it != items_.end(); ++it)
    if (it->first == key) {
      items_.erase(it);
      return true;
    }
  return false;
}
bool operator==(const json_object& a, const json_object& b) {
  // Order does not matter for equality, as for Python dicts.
  if (a.size() != b.size()) return false;
  for (const auto& kv : a) {
    const json* other = b.find(kv.first);
    if (other == nullptr || !(*other == kv.second)) return false;
  }
  return true;
}

// --- accessors -----------------------------------------------------------------

namespace {
[[noreturn]] void wrong_type(const char* wanted, json::kind got) {
  throw json_type_error(std::string("aio::http::json: expected ") + wanted + ", got " + std::string(to_string(got)));
}
}  // namespace

bool json::as_bool() const {
  if (const bool* b = std::get_if<bool>(&v_)) return *b;
  wrong_type("a boolean", type());
}
std::int64_t json::as_int() const {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  if (const auto* d = std::get_if<double>(&v_)) {
    // 2^63 is exactly representable; anything below it (and integral) fits.
    if (std::trunc(*d) == *d && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0)
      return static_cast<std::int64_t>(*d);
    throw json_type_error("aio::http::json: expected an integer, got the number " + dump());
  }
  wrong_type("an integer", type());
}
double json::as_double() const {
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  wrong_type("a number", type());
}
const std::string& json::as_string() const {
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  wrong_type("a string", type());
}
const json::array& json::as_array() const {
  if (const auto* a = std::get_if<array>(&v_)) return *a;
  wrong_type("an array", type());
}
json::array& json::as_array() {
  if (auto* a = std::get_if<array>(&v_)) return *a;
  wrong_type("an array", type());
}
const json::object& json::as_object() const {
  if (const auto* o = std::get_if<object>(&v_)) return *o;
  wrong_type("an object", type());
}
json::object& json::as_object() {
  if (auto* o = std::get_if<object>(&v_)) return *o;
  wrong_type("an object", type());
}

json& json::operator[](std::string_view key) {
  if (is_null()) v_ = object{};
  if (auto* o = std::get_if<object>(&v_)) return (*o)[key];
  throw json_type_error("aio::http::json: operator[](\"" + std::string(key) + "\") on " +
                        std::string(to_string(type())) + ", not an object");
}
const json& json::at(std::string_view key) const {
  const auto* o = std::get_if<object>(&v_);
  if (o == nullptr)
    throw json_type_error("aio::http::json: at(\"" + std::string(key) + "\") on " + std::string(to_string(type())) +
                          ", not an object");
  if (const json* v = o->find(key)) return *v;
  throw json_type_error("aio::http::json: the object has no member \"" + std::string(key) + "\"");
}
json& json::at(std::string_view key) { return const_cast<json&>(static_cast<const json&>(*this).at(key)); }
const json& json::element(std::size_t index) const {
  const auto* a = std::get_if<array>(&v_);
  if (a == nullptr)
    throw json_type_error("aio::http::json: at(" + std::to_string(index) + ") on " + std::string(to_string(type())) +
                          ", not an array");
  if (index >= a->size())
    throw json_type_error("aio::http::json: index " + std::to_string(index) + " out of range (size " +
                          std::to_string(a->size()) + ")");
  return (*a)[index];
}
bool json::contains(std::string_view key) const noexcept {
  const auto* o = std::get_if<object>(&v_);
  return o != nullptr && o->find(key) != nullptr;
}
void json::push_back(json value) {
  if (is_null()) v_ = array{};
  if (auto* a = std::get_if<array>(&v_)) {
    a->push_back(std::move(value));
    return;
  }
  throw json_type_error("aio::http::json: push_back on " + std::string(to_string(type())) + ", not an array");
}
std::size_t json::size() const noexcept {
  if (const auto* a = std::get_if<array>(&v_)) return a->size();
  if (const auto* o = std::get_if<object>(&v_)) return o->size();
  return 0;
}

// --- writer --------------------------------------------------------------------

namespace {

void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

void write_value(std::string& out, const json& v, int indent, int depth) {
  switch (v.type()) {
    case json::kind::null: out += "null"; return;
    case json::kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case json::kind::integer: {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, r.ptr);
      return;
    }
    case json::kind::number: {
      const double d = v.as_double();
      if (!std::isfinite(d))
        throw json_type_error("aio::http::json::dump: JSON has no NaN or infinity (got " +
                              std::string(std::isnan(d) ? "nan" : "inf") + ")");
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
      const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
      out += text;
      // Keep it a float on the way back, as Python writes 1.0 rather than 1.
      if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
      return;
    }
    case json::kind::string: write_string(out, v.as_string()); return;
    case json::kind::array: {
      const auto& a = v.as_array();
      out += '[';
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        newline(out, indent, depth + 1);
        write_value(out, a[i], indent, depth + 1);
      }
      if (!a.empty()) newline(out, indent, depth);
      out += ']';
      return;
    }
    case json::kind::object: {
      const auto& o = v.as_object();
      out += '{';
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        write_string(out, kv.first);
        out += indent >= 0 ? ": " : ":";
        write_value(out, kv.second, indent, depth + 1);
      }
      if (!o.empty()) newline(out, indent, depth);
      out += '}';
      return;
    }
  }
}

// --- reader --------------------------------------------------------------------

class reader {
 public:
  explicit reader(std::string_view text) noexcept : s_(text) {}

  json document() {
    skip_ws();
    json v = value(0);
    skip_ws();
    if (p_ != s_.size()) fail("unexpected " + describe_here() + " after the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 256;

  [[noreturn]] void fail(const std::string& what) const { fail_at(what, p_); }
  [[noreturn]] void fail_at(const std::string& what, std::size_t at) const {
    std::size_t line = 1;
    std::size_t col = 1;
    for (std::size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw json_parse_error(what, at, line, col);
  }
  std::string describe_here() const {
    if (p_ >= s_.size()) return "end of input";
    const auto c = static_cast<unsigned char>(s_[p_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_ws() noexcept {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  json value(int depth) {
    if (p_ >= s_.size()) fail("expected a value, got end of input");
    switch (s_[p_]) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return json(parse_string());
      case 't':
        if (literal("true")) return json(true);
        break;
      case 'f':
        if (literal("false")) return json(false);
        break;
      case 'n':
        if (literal("null")) return json(nullptr);
        break;
      default:
        if (s_[p_] == '-' || (s_[p_] >= '0' && s_[p_] <= '9')) return parse_number();
    }
    fail("expected a value, got " + describe_here());
  }

  json parse_object(int depth) {
    if (depth >= max_depth) fail("nesting deeper than " + std::to_string(max_depth));
    ++p_;  // '{'
    json::object o;
    skip_ws();
    if (p_ < s_.size() && s_[p_] == '}') {
      ++p_;
      return json(std::move(o));
    }
    for (;;) {
      skip_ws();
      if (p_ >= s_.size() || s_[p_] != '"') fail("expected a string key in the object, got " + describe_here());
      const std::size_t key_at = p_;
      std::string key = parse_string();
      if (o.find(key) != nullptr) fail_at("duplicate key \"" + key + "\" in the object", key_at);
      skip_ws();
      if (p_ >= s_.size() || s_[p_] != ':') fail("expected ':' after the key, got " + describe_here());
      ++p_;
      skip_ws();
      o.set(std::move(key), value(depth + 1));
      skip_ws();
      if (p_ < s_.size() && s_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < s_.size() && s_[p_] == '}') {
        ++p_;
        return json(std::move(o));
      }
      fail("expected ',' or '}' in the object, got " + describe_here());
    }
  }

  json parse_array(int depth) {
    if (depth >= max_depth) fail("nesting deeper than " + std::to_string(max_depth));
    ++p_;  // '['
    json::array a;
    skip_ws();
    if (p_ < s_.size() && s_[p_] == ']') {
      ++p_;
      return json(std::move(a));
    }
    for (;;) {
      skip_ws();
      a.push_back(value(depth + 1));
      skip_ws();
      if (p_ < s_.size() && s_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < s_.size() && s_[p_] == ']') {
        ++p_;
        return json(std::move(a));
      }
      fail("expected ',' or ']' in the array, got " + describe_here());
    }
  }

  json parse_number() {
    const std::size_t start = p_;
    bool integral = true;
    if (s_[p_] == '-') ++p_;
    if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9') fail("expected a digit after '-', got " + describe_here());
    if (s_[p_] == '0') {
      ++p_;
      if (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') fail("a number must not have leading zeros");
    } else {
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    }
    if (p_ < s_.size() && s_[p_] == '.') {
      integral = false;
      ++p_;
      if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9')
        fail("expected a digit after the decimal point, got " + describe_here());
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      integral = false;
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9')
        fail("expected a digit in the exponent, got " + describe_here());
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + p_;
    if (integral) {
      std::int64_t i = 0;
      const auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc{} && r.ptr == last) return json(i);
      // Too big for 64 bits: keep it as a double, as JavaScript would.
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) fail_at("number out of range", start);
    if (r.ec != std::errc{} || r.ptr != last) fail_at("invalid number", start);
    return json(d);
  }

  unsigned hex4() {
    if (p_ + 4 > s_.size()) fail("expected four hex digits after \\u, got end of input");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[p_];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("expected a hex digit in the \\u escape, got " + describe_here());
      ++p_;
    }
    return v;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  /// Length of the valid UTF-8 sequence at p_, or 0 (overlongs, surrogates
  /// and code points past U+10FFFF are invalid).
  std::size_t utf8_length() const noexcept {
    const auto at = [&](std::size_t i) { return static_cast<unsigned char>(s_[p_ + i]); };
    const std::size_t left = s_.size() - p_;
    const unsigned c = at(0);
    auto cont = [&](std::size_t i) { return i < left && (at(i) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && at(1) < 0xA0) return 0;  // overlong
      if (c == 0xED && at(1) >= 0xA0) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && at(1) < 0x90) return 0;  // overlong
      if (c == 0xF4 && at(1) >= 0x90) return 0;  // past U+10FFFF
      return 4;
    }
    return 0;
  }

  std::string parse_string() {
    const std::size_t start = p_;
    ++p_;  // '"'
    std::string out;
    for (;;) {
      if (p_ >= s_.size()) fail_at("unterminated string", start);
      const auto c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return out;
      }
      if (c < 0x20) fail("control character (" + describe_here() + ") in a string: escape it");
      if (c == '\\') {
        ++p_;
        if (p_ >= s_.size()) fail_at("unterminated string", start);
        const char e = s_[p_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const std::size_t esc_at = p_ - 2;
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (s_.substr(p_, 2) != "\\u") fail_at("lone high surrogate in a \\u escape", esc_at);
              p_ += 2;
              const unsigned low = hex4();
              if (low < 0xDC00 || low > 0xDFFF) fail_at("high surrogate not followed by a low one", esc_at);
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail_at("lone low surrogate in a \\u escape", esc_at);
            }
            put_utf8(out, cp);
            break;
          }
          default:
            --p_;
            fail("invalid escape \\" + describe_here().substr(0, 3));
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++p_;
        continue;
      }
      const std::size_t n = utf8_length();
      if (n == 0) fail("invalid UTF-8 (" + describe_here() + ") in a string");
      out.append(s_.data() + p_, n);
      p_ += n;
    }
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

}  // namespace

json json::parse(std::string_view text) { return reader{text}.document(); }

std::string json::dump(int indent) const {
  std::string out;
  write_value(out, *this, indent, 0);
  return out;
}

}  // namespace aio::http
