// 06 — Database operations (asyncio guide, "Practical Examples" 2; asyncpg).
//
// Connects to PostgreSQL, runs the guide's two queries concurrently with
// gather, prints the rows and closes. There is no asyncpg for C++, so the
// example drives libpq's non-blocking API from the loop itself: libpq does the
// protocol, aio::wait_readable / aio::wait_writable (asyncio's
// loop.add_reader / add_writer) say when its socket is ready. The glue is the
// small pg_connection class below.
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

#include <aio/event_loop.hpp>
#include <aio/streams.hpp>
#include <aio/tasks.hpp>

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// What asyncpg's fetch returns: the column names and, per row, the values as
// text (nullopt for NULL).
struct records {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // printed without quotes
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class pg_connection {
 public:
  // asyncpg.connect(url).
  static aio::task<pg_connection> connect(std::string url) {
    pg_connection c{PQconnectStart(url.c_str())};
    if (!c.conn_) throw std::bad_alloc();
    if (PQstatus(c.conn_.get()) == CONNECTION_BAD) c.fail("cannot connect");
    // libpq's protocol: start as if PQconnectPoll had said "writing", wait for
    // what it asks for, call it again, until OK or FAILED. The socket may
    // change between calls (libpq tries the next address), so ask each time.
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK) {
      if (status == PGRES_POLLING_FAILED) c.fail("cannot connect");
      if (status == PGRES_POLLING_READING)
        co_await aio::wait_readable(PQsocket(c.conn_.get()));
      else
        co_await aio::wait_writable(PQsocket(c.conn_.get()));
      status = PQconnectPoll(c.conn_.get());
    }
    if (PQsetnonblocking(c.conn_.get(), 1) != 0) c.fail("PQsetnonblocking");
    co_return c;
  }

  // conn.fetch(sql): sends the query, waits for its results without blocking
  // the loop. One query at a time per connection, as in asyncpg.
  aio::task<records> fetch(std::string sql) {
    PGconn* conn = conn_.get();
    if (!PQsendQuery(conn, sql.c_str())) fail("PQsendQuery");
    // A non-blocking connection may keep part of the query in its buffer.
    // (libpq also allows reading while flushing; queries this short never
    // fill the socket buffer, so waiting for writability is enough.)
    while (int r = PQflush(conn)) {
      if (r < 0) fail("PQflush");
      co_await aio::wait_writable(PQsocket(conn));
    }
    records out;
    std::string error;
    // Every query ends with a null PGresult; read them all, even after an
    // error, so that the connection is ready for the next query.
    for (;;) {
      while (PQisBusy(conn)) {
        co_await aio::wait_readable(PQsocket(conn));
        if (!PQconsumeInput(conn)) fail("PQconsumeInput");
      }
      std::unique_ptr<PGresult, decltype(&PQclear)> result{PQgetResult(conn), &PQclear};
      if (!result) break;
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_TUPLES_OK)
        out = to_records(result.get());
      else if (status != PGRES_COMMAND_OK && error.empty())
        error = PQresultErrorMessage(result.get());
    }
    if (!error.empty()) throw std::runtime_error(sql + ": " + error);
    co_return out;
  }

  // conn.close(). PQfinish sends the Terminate message and closes the socket;
  // on a connection that is not busy that never blocks.
  void close() noexcept { conn_.reset(); }

 private:
  explicit pg_connection(PGconn* conn) : conn_(conn, &PQfinish) {}

  [[noreturn]] void fail(const char* what) const {
    std::string message = PQerrorMessage(conn_.get());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::runtime_error(std::string(what) + ": " + message);
  }

  static records to_records(const PGresult* result) {
    records out;
    for (int c = 0; c < PQnfields(result); ++c) {
      out.columns.emplace_back(PQfname(result, c));
      const Oid type = PQftype(result, c);  // int8, int2, int4, float4, float8, numeric (pg_type.h)
      out.numeric.push_back(type == 20 || type == 21 || type == 23 || type == 700 || type == 701 || type == 1700);
    }
    for (int r = 0; r < PQntuples(result); ++r) {
      auto& row = out.rows.emplace_back();
      for (int c = 0; c < PQnfields(result); ++c)
        row.push_back(PQgetisnull(result, r, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(result, r, c)));
    }
    return out;
  }

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Prints rows the way asyncpg's Record prints: <Record id=1 name='Ada'>.
void print_records(const char* table, const records& recs) {
  std::printf("%s: %zu rows\n", table, recs.rows.size());
  for (const auto& row : recs.rows) {
    std::string line = "  <Record";
    for (std::size_t c = 0; c < row.size(); ++c)
      line += " " + recs.columns[c] + "=" + (!row[c] ? "None" : recs.numeric[c] ? *row[c] : "'" + *row[c] + "'");
    std::printf("%s>\n", line.c_str());
  }
}

aio::task<void> fetch_users(std::string url) {
  // Two connections, opened concurrently (see the comment at the top).
  auto first = pg_connection::connect(url);
  auto second = pg_connection::connect(url);
  auto [users_conn, posts_conn] = co_await aio::gather(std::move(first), std::move(second));

  // Concurrent queries, one per connection.
  auto users_task = users_conn.fetch("SELECT * FROM users");
  auto posts_task = posts_conn.fetch("SELECT * FROM posts");
  auto [users, posts] = co_await aio::gather(std::move(users_task), std::move(posts_task));

  // Python's `finally: await conn.close()`; an exception above closes them too
  // (pg_connection's destructor).
  users_conn.close();
  posts_conn.close();
  print_records("users", users);
  print_records("posts", posts);
}

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
