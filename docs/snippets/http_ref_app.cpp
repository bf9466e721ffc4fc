// docs/reference/http.md: an aio::http::app answered without a network
// (app.handle), on virtual time: routes, parameters, dependencies, errors.
#include <aio/event_loop.hpp>
#include <aio/http/json.hpp>
#include <aio/http/message.hpp>
#include <aio/http/server.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <utility>

namespace http = aio::http;

// [app]
struct user_store {  // a shared object: its provider returns task<user_store&>
  std::map<std::string, std::string> names{{"1", "Ada"}, {"2", "Alan"}};
};
user_store the_store;

struct request_id {  // a new one per request: its provider returns task<request_id>
  int value = 0;
  explicit request_id(int v) : value(v) {}
  request_id(request_id&& o) noexcept : value(std::exchange(o.value, 0)) {}
  ~request_id() {
    if (value != 0) std::printf("  (request_id %d destroyed after the handler)\n", value);
  }
};
int next_id = 0;

aio::task<user_store&> get_db(http::request&) { co_return the_store; }
aio::task<request_id> make_id() { co_return request_id{++next_id}; }

aio::task<http::json> get_user(http::request& req, user_store& db, request_id& id) {
  auto it = db.names.find(req.path_param("id"));
  if (it == db.names.end()) throw http::http_error(404, "User not found");
  co_return http::json::object{{"id", req.path_param("id")}, {"name", it->second}, {"request", id.value}};
}

aio::task<http::response> create_user(http::request& req) {
  http::json body = req.json();  // 422 if the body is not JSON
  co_return http::response::json(http::json::object{{"created", body.at("name")}}, 201);
}

aio::task<http::response> search(http::request& req) {
  co_return http::response::text("q=" + req.query_param("q").value_or("(none)"));
}

http::app make_app() {
  http::app app;
  app.dependency(get_db);  // Depends(get_db)
  app.dependency(make_id);
  app.get("/users/{id}", get_user);
  app.post("/users", create_user);
  app.get("/search", search);
  return app;
}
// [/app]

// [handle]
aio::task<void> ask(const http::app& app, std::string method, std::string target, std::string body = {}) {
  http::request req;
  req.method = method;
  req.target = target;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.body = body;
  http::response resp = co_await app.handle(req);
  std::printf("%s %s -> %d %s\n", method.c_str(), target.c_str(), resp.status, resp.body.c_str());
}

aio::task<void> main_task() {
  http::app app = make_app();
  co_await ask(app, "GET", "/users/1");
  co_await ask(app, "GET", "/users/9");
  co_await ask(app, "POST", "/users", R"({"name": "Grace"})");
  co_await ask(app, "POST", "/users", "not json");
  co_await ask(app, "GET", "/search?q=hello+world%21");
  co_await ask(app, "GET", "/nowhere");
  co_await ask(app, "DELETE", "/users/1");
}
// [/handle]

int main() { aio::run(main_task(), aio::virtual_time); }
