// 13 — FastAPI Integration: async endpoints backed by PostgreSQL, a database
// dependency, background tasks (the guide's FastAPI section), with aio::http.
//
// The guide's app, line by line:
//
//   @app.get("/users")                          app.get("/users", get_users);
//   async def get_users(db = Depends(get_db))   task<json> get_users(request&, db_session& db)
//       await db.execute(select(User))            co_await db->fetch("SELECT id, name, email FROM users ...")
//   @app.post("/users")                         app.post("/users", create_user);
//       db.add(new_user); await db.commit()       co_await db->fetch("INSERT INTO users ... VALUES ($1, $2) RETURNING ...",
//       await db.refresh(new_user)                                   name, email)   (RETURNING is the refresh)
//   @app.post("/register")                      app.post("/register", register_user);
//       background_tasks.add_task(send_email, …)  background_tasks.add_task(send_email(…));
//
// The database is a real PostgreSQL server (the guide's users table, from
// scripts/start-postgres), reached through libpq's non-blocking API driven by
// aio::wait_readable / aio::wait_writable: examples/support/pg.hpp, shared with
// 06_database. get_db lends each request a connection from a small pool (the
// server runs requests concurrently; a PostgreSQL connection runs one query at
// a time) and takes it back when the handler is done. The values of a POST go
// to the server as query parameters, never spliced into the SQL, so a name like
// "Robert'); DROP TABLE users;--" is stored as it is. send_email is simulated
// by a one-second sleep, as in the guide.
//
// Run as is (with DATABASE_URL set), the program starts the server on a free
// port, calls it with the aio::http client, prints each exchange, and shuts
// down gracefully, which waits for the e-mail still being "sent" in the
// background. Then it deletes the users it added (and rewinds the id sequence)
// so that the next run prints the same. Run with `--serve 8000` to keep
// serving on port 8000 until Ctrl-C (users added then stay), and try:
//   curl -s localhost:8000/users
//   curl -s -X POST localhost:8000/users -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.org"}'

#include "support/pg.hpp"

#include <aio/event_loop.hpp>
#include <aio/http/client.hpp>
#include <aio/http/json.hpp>
#include <aio/http/server.hpp>
#include <aio/tasks.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

using namespace std::chrono_literals;
using aio::http::json;

// --- the database ----------------------------------------------------------------------

// [dependency]
/// The connections the requests share (SQLAlchemy's engine); demo() or serve() opens it.
pg::pool* database = nullptr;

/// SQLAlchemy's AsyncSession: here, a connection lent by the pool.
using db_session = pg::pooled_connection;

/// get_db, for Depends(get_db): a connection for each request. The server
/// destroys the session once the handler is done, which gives the connection
/// back (what the code after `yield` does in a FastAPI dependency).
aio::task<db_session> get_db(aio::http::request&) {
  auto acquiring = database->acquire();
  co_return co_await std::move(acquiring);
}
// [/dependency]

/// A users row as JSON, as FastAPI returns the User model.
json user_json(const pg::result& r, std::size_t row) {
  auto text = [&](const char* column) -> json {
    const std::optional<std::string>& v = r.rows[row][r.column(column)];
    return v ? json(*v) : json(nullptr);
  };
  return json::object{
      {"id", std::stoll(r.rows[row][r.column("id")].value())}, {"name", text("name")}, {"email", text("email")}};
}

/// UserCreate: the request body, checked (FastAPI's pydantic model answers 422).
struct user_create {
  std::string name;
  std::string email;
};
user_create parse_user_create(const aio::http::request& req) {
  const json body = req.json();
  if (!body.is_object() || !body.contains("name") || !body.at("name").is_string() || !body.contains("email") ||
      !body.at("email").is_string())
    throw aio::http::http_error(422, "expected {\"name\": string, \"email\": string}");
  return {body.at("name").as_string(), body.at("email").as_string()};
}

// --- the endpoints ---------------------------------------------------------------------

// [endpoints]
aio::task<json> get_users(aio::http::request&, db_session& db) {
  pg::result users = co_await db->fetch("SELECT id, name, email FROM users ORDER BY id");
  json out = json::array{};
  for (std::size_t row = 0; row < users.rows.size(); ++row) out.push_back(user_json(users, row));
  co_return out;
}

/// INSERT with the values as parameters $1 and $2: whatever they hold, they
/// are data, never SQL.
aio::task<json> insert_user(db_session& db, user_create user) {
  pg::result r = co_await db->fetch("INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email",
                                    user.name, user.email);
  co_return user_json(r, 0);
}

aio::task<aio::http::response> create_user(aio::http::request& req, db_session& db) {
  user_create body = parse_user_create(req);
  json new_user = co_await insert_user(db, std::move(body));
  co_return aio::http::response::json(new_user, 201);
}
// [/endpoints]

// [background]
aio::task<void> send_email(std::string email, std::string message) {
  co_await aio::sleep(1s);  // simulate sending
  std::printf("Email sent to %s: %s\n", email.c_str(), message.c_str());
}

aio::task<aio::http::response> register_user(aio::http::request& req, db_session& db,
                                             aio::http::background_tasks& background_tasks) {
  user_create body = parse_user_create(req);
  json user = co_await insert_user(db, std::move(body));
  // Runs after the response has been sent; the client does not wait for it.
  background_tasks.add_task(send_email(user.at("email").as_string(), "Welcome!"));
  co_return aio::http::response::json(user, 201);
}
// [/background]

aio::http::app make_app() {
  aio::http::app app;
  app.dependency(get_db);
  app.get("/users", get_users);
  app.post("/users", create_user);
  app.post("/register", register_user);
  return app;
}

// --- calling it ------------------------------------------------------------------------

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

// The users the demo adds (the seed rows of scripts/start-postgres use
// @example.com addresses).
const char* const demo_emails[] = {"alan@example.org", "barbara@example.org", "bobby@example.org"};

/// The demo's housekeeping, not part of the app: deletes the users it adds and
/// rewinds the id sequence past the highest id left, so that every run prints
/// the same ids.
aio::task<void> remove_demo_users(pg::connection& db) {
  for (const char* email : demo_emails) {
    auto deleting = db.fetch("DELETE FROM users WHERE email = $1", email);
    co_await std::move(deleting);
  }
  auto rewinding = db.fetch(
      "SELECT setval(pg_get_serial_sequence('users', 'id'), coalesce(max(id), 0) + 1, false) FROM users");
  co_await std::move(rewinding);
}

aio::task<void> demo(std::string url) {
  // A connection of its own for the housekeeping. Its advisory lock (held
  // until it closes) makes a second run of this demo, say another build's
  // ctest, wait for this one rather than interleave its users with ours.
  auto connecting = pg::connection::connect(url);
  pg::connection admin = co_await std::move(connecting);
  co_await admin.fetch("SELECT pg_advisory_lock(13)");
  co_await remove_demo_users(admin);  // left behind by a run that was killed

  pg::pool pool{url, 4};
  database = &pool;
  auto starting = aio::http::start_server(make_app(), "127.0.0.1", 0);
  aio::http::server server = co_await std::move(starting);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  {
    aio::http::client_session session;
    co_await call(session, "GET", base + "/users");
    co_await call(session, "POST", base + "/users", R"({"name":"Alan Turing","email":"alan@example.org"})");
    co_await call(session, "POST", base + "/register", R"({"name":"Barbara Liskov","email":"barbara@example.org"})");
    std::printf("(the response came back; the welcome e-mail is still being sent)\n");
    co_await call(session, "POST", base + "/users",
                  R"({"name":"Robert'); DROP TABLE users;--","email":"bobby@example.org"})");
    co_await call(session, "GET", base + "/users");
    co_await call(session, "POST", base + "/users", R"({"name":"no email"})");
    co_await call(session, "DELETE", base + "/users");
  }
  // What SIGINT does in `--serve` mode: stop accepting, finish what is in
  // flight — including the background e-mail — then return.
  std::printf("Shutting down...\n");
  server.shutdown();
  co_await server.wait_closed();
  std::printf("Server stopped\n");
  database = nullptr;
  pool.close();

  co_await remove_demo_users(admin);
  std::printf("Removed the %zu users the demo added\n", std::size(demo_emails));
  admin.close();
}

aio::task<void> serve(std::string url, std::uint16_t port) {
  pg::pool pool{url, 4};
  database = &pool;
  std::printf("Serving on http://127.0.0.1:%u (Ctrl-C stops it gracefully)\n", static_cast<unsigned>(port));
  std::fflush(stdout);
  co_await aio::http::serve(make_app(), "127.0.0.1", port);
  database = nullptr;
  std::printf("Server stopped\n");
}

int main(int argc, char** argv) {
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr,
                 "13_fastapi_server: set DATABASE_URL to a PostgreSQL server with the guide's users table,\n"
                 "  e.g. export DATABASE_URL=$(scripts/start-postgres)   (starts one on 127.0.0.1:54329)\n");
    return 1;
  }
  try {
    if (argc == 3 && std::strcmp(argv[1], "--serve") == 0)
      aio::run(serve(url, static_cast<std::uint16_t>(std::stoi(argv[2]))));
    else
      aio::run(demo(url));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
