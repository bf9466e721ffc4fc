// 13 — FastAPI Integration: async endpoints, a database dependency, background
// tasks (the guide's FastAPI section), with aio::http.
//
// The guide's app, endpoint by endpoint:
//
//   @app.get("/users")                       app.get("/users", get_users);
//   async def get_users(db = Depends(get_db))  task<json> get_users(request&, db_session& db)
//   @app.post("/users")                      app.post("/users", create_user);
//   @app.post("/register")                   app.post("/register", register_user);
//   background_tasks.add_task(send_email, …)  tasks.add_task(send_email(…));
//
// The database is an in-memory store behind an "async session" that get_db
// opens for each request (FastAPI's Depends(get_db)); its queries take a few
// milliseconds, as a real driver's round trip would. send_email is simulated
// by a one-second sleep, as in the guide.
//
// Run as is, the program starts the server on a free port, calls it with the
// aio::http client, prints each exchange, and shuts down gracefully — which
// waits for the e-mail still being "sent" in the background. Run with
// `--serve 8000` to keep serving on port 8000 until Ctrl-C, then try:
//   curl -s localhost:8000/users
//   curl -s -X POST localhost:8000/users -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'

#include <aio/event_loop.hpp>
#include <aio/http/client.hpp>
#include <aio/http/json.hpp>
#include <aio/http/server.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using aio::http::json;

// --- the "database" ----------------------------------------------------------------

struct user {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  [[nodiscard]] json to_json() const { return json::object{{"id", id}, {"name", name}, {"email", email}}; }
};

/// The tables (shared by every request).
struct database {
  std::vector<user> users;
  std::int64_t next_id = 1;
};
database the_database;

/// SQLAlchemy's AsyncSession, in miniature: one per request, its changes
/// applied by commit().
class db_session {
 public:
  explicit db_session(database* db) : db_(db) {}
  /// SELECT * FROM users.
  aio::task<std::vector<user>> all_users() {
    co_await aio::sleep(5ms);  // the round trip to the database
    co_return db_->users;
  }
  void add(user u) { pending_.push_back(std::move(u)); }
  aio::task<void> commit() {
    co_await aio::sleep(5ms);
    for (user& u : pending_) {
      u.id = db_->next_id++;
      db_->users.push_back(u);
    }
  }
  /// The last committed row (db.refresh(new_user)).
  [[nodiscard]] const user& last() const { return db_->users.back(); }

 private:
  database* db_;
  std::vector<user> pending_;
};

/// get_db: a session per request (Depends(get_db)).
aio::task<db_session> get_db(aio::http::request&) { co_return db_session{&the_database}; }

/// UserCreate: the request body, checked (FastAPI's pydantic model answers 422).
user user_create(const aio::http::request& req) {
  const json body = req.json();
  if (!body.is_object() || !body.contains("name") || !body.at("name").is_string() || !body.contains("email") ||
      !body.at("email").is_string())
    throw aio::http::http_error(422, "expected {\"name\": string, \"email\": string}");
  return user{0, body.at("name").as_string(), body.at("email").as_string()};
}

// --- the endpoints --------------------------------------------------------------------

aio::task<json> get_users(aio::http::request&, db_session& db) {
  std::vector<user> users = co_await db.all_users();
  json out = json::array{};
  for (const user& u : users) out.push_back(u.to_json());
  co_return out;
}

aio::task<aio::http::response> create_user(aio::http::request& req, db_session& db) {
  db.add(user_create(req));
  co_await db.commit();
  co_return aio::http::response::json(db.last().to_json(), 201);
}

aio::task<void> send_email(std::string email, std::string message) {
  co_await aio::sleep(1s);  // simulate sending
  std::printf("Email sent to %s: %s\n", email.c_str(), message.c_str());
}

aio::task<aio::http::response> register_user(aio::http::request& req, db_session& db,
                                             aio::http::background_tasks& background_tasks) {
  db.add(user_create(req));
  co_await db.commit();
  const user& u = db.last();
  background_tasks.add_task(send_email(u.email, "Welcome!"));
  co_return aio::http::response::json(u.to_json(), 201);
}

aio::http::app make_app() {
  aio::http::app app;
  app.dependency(get_db);
  app.get("/users", get_users);
  app.post("/users", create_user);
  app.post("/register", register_user);
  return app;
}

// --- calling it --------------------------------------------------------------------------

aio::task<void> call(aio::http::client_session& session, std::string method, std::string url, std::string body = {}) {
  aio::http::headers h;
  if (!body.empty()) h.add("Content-Type", "application/json");
  std::printf("%s %s%s%s\n", method.c_str(), url.substr(url.find('/', 7)).c_str(), body.empty() ? "" : " ",
              body.c_str());
  auto requesting = session.request(method, url, body, h);
  aio::http::client_response r = co_await std::move(requesting);
  const std::string text = co_await r.text();
  std::printf("  -> %d %s\n", r.status, text.c_str());
}

aio::task<void> demo() {
  auto starting = aio::http::start_server(make_app(), "127.0.0.1", 0);
  aio::http::server server = co_await std::move(starting);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  {
    aio::http::client_session session;
    co_await call(session, "GET", base + "/users");
    co_await call(session, "POST", base + "/users", R"({"name":"Ada","email":"ada@example.com"})");
    co_await call(session, "POST", base + "/users", R"({"name":"Grace","email":"grace@example.com"})");
    co_await call(session, "GET", base + "/users");
    co_await call(session, "POST", base + "/register", R"({"name":"Linus","email":"linus@example.com"})");
    std::printf("(the response came back; the welcome e-mail is still being sent)\n");
    co_await call(session, "POST", base + "/users", R"({"name":"no email"})");
    co_await call(session, "DELETE", base + "/users");
  }
  // What SIGINT does in `--serve` mode: stop accepting, finish what is in
  // flight — including the background e-mail — then return.
  std::printf("Shutting down...\n");
  server.shutdown();
  co_await server.wait_closed();
  std::printf("Server stopped\n");
}

aio::task<void> serve(std::uint16_t port) {
  std::printf("Serving on http://127.0.0.1:%u (Ctrl-C stops it gracefully)\n", static_cast<unsigned>(port));
  std::fflush(stdout);
  co_await aio::http::serve(make_app(), "127.0.0.1", port);
  std::printf("Server stopped\n");
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--serve") == 0) {
    aio::run(serve(static_cast<std::uint16_t>(std::stoi(argv[2]))));
  } else {
    aio::run(demo());
  }
}
