// Tests for aio/http/json.hpp: building values, round trips through dump()
// and parse() (compact and indented), numbers (integers, doubles, big ones),
// strings (escapes, \u surrogate pairs, UTF-8), and the strict reader's
// errors with their positions (RFC 8259 test-suite style cases).
#include <aio/http/json.hpp>

#include "support/catch.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

static_assert(std::is_same_v<decltype(aio::http::json::parse("")), aio::http::json>);
static_assert(std::is_same_v<decltype(std::declval<const aio::http::json&>().dump()), std::string>);
static_assert(std::is_base_of_v<std::runtime_error, aio::http::json_parse_error>);
static_assert(std::is_nothrow_move_constructible_v<aio::http::json>);

using aio::http::json;
using aio::http::json_parse_error;
using aio::http::json_type_error;

namespace {
/// The error a text gets, or "" if it parses.
std::string error_of(std::string_view text) {
  try {
    (void)json::parse(text);
    return "";
  } catch (const json_parse_error& e) {
    return e.what();
  }
}
}  // namespace

TEST_CASE("building values and reading them back", "[http][json]") {
  json user = json::object{{"id", 1}, {"name", "Ada"}, {"admin", false}, {"score", 9.5}, {"tags", json::array{"a", "b"}}};
  user["email"] = "ada@example.com";
  CHECK(user.is_object());
  CHECK(user.size() == 6);
  CHECK(user.at("id").as_int() == 1);
  CHECK(user.at("id").is_integer());
  CHECK(user.at("name").as_string() == "Ada");
  CHECK_FALSE(user.at("admin").as_bool());
  CHECK(user.at("score").as_double() == 9.5);
  CHECK(user.at("tags").at(1).as_string() == "b");
  CHECK(user.contains("email"));
  CHECK(user.dump() == R"({"id":1,"name":"Ada","admin":false,"score":9.5,"tags":["a","b"],"email":"ada@example.com"})");
  json list;
  list.push_back(1);
  list.push_back(nullptr);
  list.push_back(json::object{});
  CHECK(list.dump() == "[1,null,{}]");
  CHECK(json().dump() == "null");
  CHECK(json(std::int64_t{-9223372036854775807 - 1}).dump() == "-9223372036854775808");
  CHECK(json(2.0).dump() == "2.0");  // stays a double, as Python writes it
  CHECK(json(0.1).dump() == "0.1");
  CHECK(json(1e300).dump() == "1e+300");
}

TEST_CASE("type errors say what was expected and what was there", "[http][json]") {
  const json v = json::object{{"n", "text"}};
  CHECK_THROWS_WITH(v.at("n").as_int(), Catch::Matchers::Contains("expected an integer, got string"));
  CHECK_THROWS_WITH(v.at("missing"), Catch::Matchers::Contains("no member \"missing\""));
  CHECK_THROWS_WITH(json(1).at("k"), Catch::Matchers::Contains("not an object"));
  CHECK_THROWS_WITH(json(json::array{}).at(0), Catch::Matchers::Contains("out of range"));
  CHECK_THROWS_AS(json(1.5).as_int(), json_type_error);
  CHECK(json(3.0).as_int() == 3);
  CHECK(json(3).as_double() == 3.0);
  CHECK_THROWS_WITH(json(std::nan("")).dump(), Catch::Matchers::Contains("NaN"));
  CHECK_THROWS_AS(json(std::numeric_limits<double>::infinity()).dump(), json_type_error);
  json s = "x";
  CHECK_THROWS_AS(s["k"], json_type_error);
  CHECK_THROWS_AS(s.push_back(1), json_type_error);
}

TEST_CASE("round trips, compact and indented", "[http][json]") {
  const std::string texts[] = {
      R"({"users":[{"id":1,"name":"Ada","email":null},{"id":2,"name":"Grace","tags":[]}],"total":2,"ok":true})",
      R"([0,-0.5,1.5e-10,123456789012345678,-1,"",[],{},[[[]]]])",
      R"("esc: \" \\ \/ \b \f \n \r \t \u0001 \u00e9 \u20ac \ud83d\ude00")",
  };
  for (const std::string& text : texts) {
    const json v = json::parse(text);
    CHECK(json::parse(v.dump()) == v);
    CHECK(json::parse(v.dump(2)) == v);
  }
  const json nested = json::parse(texts[0]);
  CHECK(nested.at("users").at(1).at("name").as_string() == "Grace");
  CHECK(nested.dump(2) ==
        "{\n  \"users\": [\n    {\n      \"id\": 1,\n      \"name\": \"Ada\",\n      \"email\": null\n    },\n"
        "    {\n      \"id\": 2,\n      \"name\": \"Grace\",\n      \"tags\": []\n    }\n  ],\n  \"total\": 2,\n"
        "  \"ok\": true\n}");
  // Object equality ignores key order, as Python's dict equality does.
  CHECK(json::parse(R"({"a":1,"b":2})") == json::parse(R"({"b":2,"a":1})"));
  CHECK_FALSE(json::parse(R"({"a":1})") == json::parse(R"({"a":1.5})"));
}

TEST_CASE("strings: escapes, surrogate pairs, UTF-8 in and out", "[http][json]") {
  CHECK(json::parse(R"("\u00e9")").as_string() == "\xc3\xa9");
  CHECK(json::parse(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");
  CHECK(json::parse("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"").as_string() == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(json("line\nbreak \"quoted\" \x01").dump() == R"("line\nbreak \"quoted\" \u0001")");
  CHECK(json("caf\xc3\xa9").dump() == "\"caf\xc3\xa9\"");  // UTF-8 written as is
}

TEST_CASE("numbers: integers stay integers, big ones become doubles", "[http][json]") {
  CHECK(json::parse("42").is_integer());
  CHECK(json::parse("-0").is_integer());
  CHECK(json::parse("42.0").type() == json::kind::number);
  CHECK(json::parse("1e2").as_double() == 100.0);
  CHECK(json::parse("9223372036854775807").as_int() == 9223372036854775807);
  CHECK(json::parse("9223372036854775808").type() == json::kind::number);
  CHECK(json::parse("-1.5E-3").as_double() == -0.0015);
}

TEST_CASE("the strict reader rejects what RFC 8259 does not allow", "[http][json][errors]") {
  CHECK(error_of("").find("expected a value, got end of input") != std::string::npos);
  CHECK(error_of("{\"a\":1,}").find("expected a string key") != std::string::npos);
  CHECK(error_of("[1,2,]").find("expected a value") != std::string::npos);
  CHECK(error_of("[1 2]").find("expected ',' or ']'") != std::string::npos);
  CHECK(error_of("{\"a\" 1}").find("expected ':'") != std::string::npos);
  CHECK(error_of("{'a':1}").find("expected a string key") != std::string::npos);
  CHECK(error_of("01").find("leading zeros") != std::string::npos);
  CHECK(error_of("+1").find("expected a value") != std::string::npos);
  CHECK(error_of("1.").find("after the decimal point") != std::string::npos);
  CHECK(error_of(".5").find("expected a value") != std::string::npos);
  CHECK(error_of("1e").find("exponent") != std::string::npos);
  CHECK(error_of("NaN").find("expected a value") != std::string::npos);
  CHECK(error_of("Infinity").find("expected a value") != std::string::npos);
  CHECK(error_of("1e999").find("out of range") != std::string::npos);
  CHECK(error_of("tru").find("expected a value") != std::string::npos);
  CHECK(error_of("nulll").find("after the JSON value") != std::string::npos);
  CHECK(error_of("{} {}").find("after the JSON value") != std::string::npos);
  CHECK(error_of("/* c */ 1").find("expected a value") != std::string::npos);
  CHECK(error_of("\"abc").find("unterminated string") != std::string::npos);
  CHECK(error_of("\"a\tb\"").find("control character") != std::string::npos);
  CHECK(error_of("\"\\x41\"").find("invalid escape") != std::string::npos);
  CHECK(error_of("\"\\u12\"").find("hex digit") != std::string::npos);
  CHECK(error_of("\"\\ud83d\"").find("lone high surrogate") != std::string::npos);
  CHECK(error_of("\"\\ude00\"").find("lone low surrogate") != std::string::npos);
  CHECK(error_of("\"\\ud83d\\u0041\"").find("not followed by a low one") != std::string::npos);
  CHECK(error_of("\"\xff\"").find("invalid UTF-8") != std::string::npos);
  CHECK(error_of("\"\xc0\xaf\"").find("invalid UTF-8") != std::string::npos);      // overlong '/'
  CHECK(error_of("\"\xed\xa0\x80\"").find("invalid UTF-8") != std::string::npos);  // encoded surrogate
  CHECK(error_of("\"\xe2\x82\"").find("invalid UTF-8") != std::string::npos);      // truncated
  CHECK(error_of("{\"a\":1,\"a\":2}").find("duplicate key \"a\"") != std::string::npos);
  CHECK(error_of(std::string(300, '[') + std::string(300, ']')).find("nesting deeper than 256") != std::string::npos);
  CHECK(error_of(std::string(200, '[') + std::string(200, ']')).empty());
  CHECK(error_of(" \t\r\n{ } \n").empty());
}

TEST_CASE("parse errors carry line, column and offset", "[http][json][errors]") {
  try {
    (void)json::parse("{\n  \"a\": 1,\n  \"b\": tru\n}");
    FAIL("parsed");
  } catch (const json_parse_error& e) {
    CHECK(e.line == 3);
    CHECK(e.column == 8);
    CHECK(e.offset == 19);
    CHECK(std::string(e.what()) == "aio::http::json::parse: expected a value, got 't' at line 3, column 8 (offset 19)");
  }
}
