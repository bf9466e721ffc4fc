// 06 — Database operations (asyncio guide, "Practical Examples" 2; asyncpg).
//
// Connects to PostgreSQL, runs the guide's two queries concurrently with
// gather, prints the rows and closes. There is no asyncpg for C++, so the
// example drives libpq's non-blocking API from the loop itself: libpq does the
// protocol, aio::wait_readable / aio::wait_writable (asyncio's
// loop.add_reader / add_writer) say when its socket is ready. The glue is
// pg::connection in examples/support/pg.hpp, which 13_fastapi_server uses too.
//
// The guide runs both queries on ONE connection. asyncpg refuses that
// ("another operation is in progress"): a PostgreSQL connection runs one query
// at a time. libpq's pipeline mode could queue both on one connection, but the
// server would still run them one after the other; two connections (what an
// asyncpg pool hands out) really run them at the same time, so that is what
// this example does.
//
// The server comes from DATABASE_URL, a libpq URI or connection string:
//   export DATABASE_URL=$(scripts/start-postgres)
//   build/examples/06_database
// scripts/start-postgres starts a local server with the guide's users and posts
// tables; any server with those tables will do.

#include "support/pg.hpp"

#include <aio/event_loop.hpp>
#include <aio/tasks.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

// Prints rows the way asyncpg's Record prints: <Record id=1 name='Ada'>.
void print_records(const char* table, const pg::result& recs) {
  std::printf("%s: %zu rows\n", table, recs.rows.size());
  for (const auto& row : recs.rows) {
    std::string line = "  <Record";
    for (std::size_t c = 0; c < row.size(); ++c)
      line += " " + recs.columns[c] + "=" + (!row[c] ? "None" : recs.numeric[c] ? *row[c] : "'" + *row[c] + "'");
    std::printf("%s>\n", line.c_str());
  }
}

// [fetch_users]
aio::task<void> fetch_users(std::string url) {
  // Two connections, opened concurrently (see the comment at the top).
  auto first = pg::connection::connect(url);
  auto second = pg::connection::connect(url);
  auto [users_conn, posts_conn] = co_await aio::gather(std::move(first), std::move(second));

  // Concurrent queries, one per connection.
  auto users_task = users_conn.fetch("SELECT * FROM users");
  auto posts_task = posts_conn.fetch("SELECT * FROM posts");
  auto [users, posts] = co_await aio::gather(std::move(users_task), std::move(posts_task));

  // Python's `finally: await conn.close()`; an exception above closes them too
  // (pg::connection's destructor).
  users_conn.close();
  posts_conn.close();
  print_records("users", users);
  print_records("posts", posts);
}
// [/fetch_users]

int main() {
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr,
                 "06_database: set DATABASE_URL to a PostgreSQL server with the guide's users and posts tables,\n"
                 "  e.g. export DATABASE_URL=$(scripts/start-postgres)   (starts one on 127.0.0.1:54329)\n");
    return 1;
  }
  try {
    aio::run(fetch_users(url));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
