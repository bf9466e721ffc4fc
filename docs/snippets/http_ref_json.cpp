// docs/reference/http.md: aio::http::json.
#include <aio/http/json.hpp>

#include <cstdio>
#include <string>

namespace http = aio::http;

int main() {
  // [json]
  http::json user = http::json::object{{"id", 1}, {"name", "Ada"}};
  user["email"] = "ada@example.com";
  user["tags"].push_back("admin");  // null becomes an array
  std::string text = user.dump();
  std::printf("%s\n", text.c_str());

  http::json back = http::json::parse(text);
  std::printf("id %lld, name %s, %zu members\n", static_cast<long long>(back.at("id").as_int()),
              back.at("name").as_string().c_str(), back.size());
  std::printf("%s\n", http::json::parse("[1, 2.5, true, null]").dump(2).c_str());
  // [/json]

  // [json_errors]
  try {
    (void)http::json::parse("{\"a\": 1,}");
  } catch (const http::json_parse_error& e) {
    std::printf("json_parse_error at line %zu, column %zu\n", e.line, e.column);
  }
  try {
    (void)back.at("name").as_int();
  } catch (const http::json_type_error& e) {
    std::printf("json_type_error: %s\n", e.what());
  }
  // [/json_errors]
}
