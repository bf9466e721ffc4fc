// aio/http/json.hpp — a small JSON value with a strict reader and a writer
// (Python's json module, for request and response bodies).
//
//   aio::http::json user = aio::http::json::object{{"id", 1}, {"name", "Ada"}};
//   user["email"] = "ada@example.com";
//   std::string text = user.dump();                 // {"id":1,"name":"Ada","email":"ada@example.com"}
//   aio::http::json back = aio::http::json::parse(text);
//   std::int64_t id = back.at("id").as_int();
//
// Objects keep their keys in insertion order (as Python's dicts do). Numbers
// are integers (std::int64_t) when written without fraction or exponent and
// they fit, doubles otherwise. The reader is strict RFC 8259: no comments,
// trailing commas, NaN, leading zeros, single quotes, control characters in
// strings, invalid UTF-8 or lone surrogates, duplicate keys in an object, or
// nesting deeper than 256; each error names what was expected and the line,
// column and byte offset. Plain values, nothing loop-affine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace aio::http {

/// A JSON text that does not parse: what was wrong, and where.
class json_parse_error : public std::runtime_error {
 public:
  json_parse_error(const std::string& what_was_wrong, std::size_t offset, std::size_t line, std::size_t column);
  std::size_t offset;  // bytes from the start
  std::size_t line;    // 1-based
  std::size_t column;  // 1-based, in bytes
};

/// A value used as the wrong type (as_int() on a string), a missing key in
/// at(), an index out of range, or a NaN/infinity given to dump().
class json_type_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class json;

/// A JSON object: key/value pairs in insertion order, keys unique.
class json_object {
 public:
  using value_type = std::pair<std::string, json>;
  json_object() = default;
  json_object(std::initializer_list<value_type> items);

  [[nodiscard]] const json* find(std::string_view key) const noexcept;
  [[nodiscard]] json* find(std::string_view key) noexcept;
  /// The value of `key`, inserted as null if absent.
  json& operator[](std::string_view key);
  /// Inserts or replaces.
  void set(std::string key, json value);
  bool erase(std::string_view key);
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept;
  [[nodiscard]] const_iterator begin() const noexcept;
  [[nodiscard]] const_iterator end() const noexcept;
  [[nodiscard]] iterator begin() noexcept;
  [[nodiscard]] iterator end() noexcept;
  friend bool operator==(const json_object& a, const json_object& b);

 private:
  std::vector<value_type> items_;
};

class json {
 public:
  using array = std::vector<json>;
  using object = json_object;
  enum class kind : std::uint8_t { null, boolean, integer, number, string, array, object };

  json() noexcept = default;
  json(std::nullptr_t) noexcept {}                                         // NOLINT(google-explicit-constructor)
  json(bool b) noexcept : v_(b) {}                                         // NOLINT(google-explicit-constructor)
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>)
  json(I i) noexcept : v_(static_cast<std::int64_t>(i)) {}                 // NOLINT(google-explicit-constructor)
  json(double d) noexcept : v_(d) {}                                       // NOLINT(google-explicit-constructor)
  json(const char* s) : v_(std::string(s)) {}                              // NOLINT(google-explicit-constructor)
  json(std::string s) noexcept : v_(std::move(s)) {}                       // NOLINT(google-explicit-constructor)
  json(std::string_view s) : v_(std::string(s)) {}                         // NOLINT(google-explicit-constructor)
  json(array a) noexcept : v_(std::move(a)) {}                             // NOLINT(google-explicit-constructor)
  json(object o) noexcept : v_(std::move(o)) {}                            // NOLINT(google-explicit-constructor)

  /// Parses a JSON text (surrounding whitespace allowed, nothing else after).
  /// Throws json_parse_error.
  [[nodiscard]] static json parse(std::string_view text);
  /// Serializes: compact by default; indent >= 0 pretty-prints with that many
  /// spaces. Non-ASCII text is written as UTF-8. Throws json_type_error for
  /// NaN or infinity (JSON has no such numbers).
  [[nodiscard]] std::string dump(int indent = -1) const;

  [[nodiscard]] kind type() const noexcept { return static_cast<kind>(v_.index()); }
  [[nodiscard]] bool is_null() const noexcept { return type() == kind::null; }
  [[nodiscard]] bool is_bool() const noexcept { return type() == kind::boolean; }
  /// Integer or double.
  [[nodiscard]] bool is_number() const noexcept { return type() == kind::integer || type() == kind::number; }
  [[nodiscard]] bool is_integer() const noexcept { return type() == kind::integer; }
  [[nodiscard]] bool is_string() const noexcept { return type() == kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return type() == kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return type() == kind::object; }

  /// The value as that type; json_type_error otherwise. as_int() accepts a
  /// double with an integral value in range; as_double() accepts an integer.
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] std::int64_t as_int() const;
  [[nodiscard]] double as_double() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const array& as_array() const;
  [[nodiscard]] array& as_array();
  [[nodiscard]] const object& as_object() const;
  [[nodiscard]] object& as_object();

  /// Object member access: null becomes an empty object; json_type_error for
  /// other types.
  json& operator[](std::string_view key);
  /// The member `key`; json_type_error naming the key if absent or not an object.
  [[nodiscard]] const json& at(std::string_view key) const;
  [[nodiscard]] json& at(std::string_view key);
  /// Array element; json_type_error if out of range or not an array. (A
  /// template, so that at(0) does not read as at(nullptr-as-key).)
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  [[nodiscard]] const json& at(I index) const {
    if constexpr (std::is_signed_v<I>)
      if (index < 0) return element(static_cast<std::size_t>(-1));
    return element(static_cast<std::size_t>(index));
  }
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  [[nodiscard]] json& at(I index) {
    return const_cast<json&>(static_cast<const json&>(*this).at(index));
  }
  [[nodiscard]] bool contains(std::string_view key) const noexcept;
  /// Appends to an array (null becomes an empty array).
  void push_back(json value);
  /// Elements of an array or members of an object; 0 otherwise.
  [[nodiscard]] std::size_t size() const noexcept;

  friend bool operator==(const json& a, const json& b) { return a.v_ == b.v_; }

 private:
  [[nodiscard]] const json& element(std::size_t index) const;
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object> v_;
};

// json_object's members that need json complete.
inline std::size_t json_object::size() const noexcept { return items_.size(); }
inline bool json_object::empty() const noexcept { return items_.empty(); }
inline json_object::const_iterator json_object::begin() const noexcept { return items_.begin(); }
inline json_object::const_iterator json_object::end() const noexcept { return items_.end(); }
inline json_object::iterator json_object::begin() noexcept { return items_.begin(); }
inline json_object::iterator json_object::end() noexcept { return items_.end(); }

/// The type's name as dump() errors and json_type_error messages say it.
[[nodiscard]] std::string_view to_string(json::kind k) noexcept;

}  // namespace aio::http
