// examples/support/pg.hpp — PostgreSQL from the event loop, for the examples
// (06_database, 13_fastapi_server): a tiny asyncpg built on libpq.
//
//   pg::connection conn = co_await pg::connection::connect(url);   // asyncpg.connect(url)
//   pg::result r = co_await conn.fetch("SELECT * FROM users WHERE id = $1", 1);
//   conn.close();
//
//   pg::pool pool{url, 4};                                         // asyncpg.create_pool(url, max_size=4)
//   pg::pooled_connection db = co_await pool.acquire();            // async with pool.acquire() as db:
//   co_await db->fetch("SELECT 1");                                //   (given back when `db` is destroyed)
//
// libpq speaks the protocol; the loop only learns when its socket is ready:
// libpq's non-blocking API (PQconnectStart / PQconnectPoll, PQsendQueryParams,
// PQflush, PQconsumeInput / PQisBusy / PQgetResult) driven by
// aio::wait_readable / aio::wait_writable (asyncio's loop.add_reader /
// add_writer). Nothing here blocks the loop.
//
// Values travel as text, both ways: parameters are sent separately from the
// SQL ($1, $2, ...), so they can never be read as SQL (no injection), and a
// query string holds one statement only (the extended protocol refuses more).
//
// One query at a time per connection, as in asyncpg (a PostgreSQL connection
// runs one query at a time): concurrent work takes several connections, which
// is what the pool hands out. Loop-affine, like everything in aio.
// Not part of the aio library: an example's helper, kept small.
#pragma once

#include <aio/locks.hpp>
#include <aio/streams.hpp>
#include <aio/task.hpp>

#include <libpq-fe.h>

#include <concepts>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg {

/// What asyncpg's fetch returns: the column names and, per row, the values as
/// text (nullopt for NULL).
struct result {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // integer, float or numeric: printed without quotes
  std::vector<std::vector<std::optional<std::string>>> rows;

  /// The index of the column called `name`. Throws std::out_of_range.
  [[nodiscard]] std::size_t column(std::string_view name) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) return c;
    throw std::out_of_range("pg::result: no column " + std::string(name));
  }
};

class connection {
 public:
  /// asyncpg.connect(url): `url` is a libpq URI or connection string.
  /// Throws std::runtime_error with libpq's message if it cannot connect.
  [[nodiscard]] static aio::task<connection> connect(std::string url) {
    connection c{PQconnectStart(url.c_str())};
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

  /// conn.fetch(sql, *args): runs one statement with parameters $1, $2, ...
  /// (strings, or integers sent as their decimal text) and returns its rows
  /// (none for a statement that returns none).
  /// Cancellation: the query is abandoned half-way; the connection is no
  /// longer idle() and should be closed (the pool does that).
  /// Throws std::runtime_error naming the statement and PostgreSQL's error.
  template <class... Params>
  [[nodiscard]] aio::task<result> fetch(std::string sql, const Params&... params) {
    return fetch_params(std::move(sql), std::vector<std::string>{to_text(params)...});
  }

  [[nodiscard]] aio::task<result> fetch_params(std::string sql, std::vector<std::string> params) {
    PGconn* conn = conn_.get();
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    if (!PQsendQueryParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0))
      fail("PQsendQueryParams");
    // A non-blocking connection may keep part of the query in its buffer.
    // (libpq also allows reading while flushing; queries this short never
    // fill the socket buffer, so waiting for writability is enough.)
    while (int r = PQflush(conn)) {
      if (r < 0) fail("PQflush");
      co_await aio::wait_writable(PQsocket(conn));
    }
    result out;
    std::string error;
    // Every query ends with a null PGresult; read them all, even after an
    // error, so that the connection is ready for the next query.
    for (;;) {
      while (PQisBusy(conn)) {
        co_await aio::wait_readable(PQsocket(conn));
        if (!PQconsumeInput(conn)) fail("PQconsumeInput");
      }
      std::unique_ptr<PGresult, decltype(&PQclear)> res{PQgetResult(conn), &PQclear};
      if (!res) break;
      const ExecStatusType status = PQresultStatus(res.get());
      if (status == PGRES_TUPLES_OK)
        out = to_result(res.get());
      else if (status != PGRES_COMMAND_OK && error.empty())
        error = PQresultErrorMessage(res.get());
    }
    if (!error.empty()) {
      while (!error.empty() && error.back() == '\n') error.pop_back();
      throw std::runtime_error(sql + ": " + error);
    }
    co_return out;
  }

  /// Open, and neither in the middle of a query nor of a transaction: fit to
  /// run the next query (or to go back to a pool).
  [[nodiscard]] bool idle() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  }

  /// conn.close(). PQfinish sends the Terminate message and closes the socket;
  /// on a non-blocking connection that never blocks. The destructor does it too.
  void close() noexcept { conn_.reset(); }

 private:
  explicit connection(PGconn* conn) : conn_(conn, &PQfinish) {}

  static std::string to_text(std::string_view s) { return std::string(s); }
  template <std::integral I>
  static std::string to_text(I i) {
    return std::to_string(i);
  }

  [[noreturn]] void fail(const char* what) const {
    std::string message = PQerrorMessage(conn_.get());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::runtime_error(std::string(what) + ": " + message);
  }

  static result to_result(const PGresult* res) {
    result out;
    for (int c = 0; c < PQnfields(res); ++c) {
      out.columns.emplace_back(PQfname(res, c));
      const Oid type = PQftype(res, c);  // int8, int2, int4, float4, float8, numeric (pg_type.h)
      out.numeric.push_back(type == 20 || type == 21 || type == 23 || type == 700 || type == 701 || type == 1700);
    }
    for (int r = 0; r < PQntuples(res); ++r) {
      auto& row = out.rows.emplace_back();
      for (int c = 0; c < PQnfields(res); ++c)
        row.push_back(PQgetisnull(res, r, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(res, r, c)));
    }
    return out;
  }

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

class pool;

/// A connection lent by pool::acquire(): use it through `->` / `*`; it goes
/// back to the pool when destroyed (closed instead if a query was abandoned
/// half-way). Movable. The pool must outlive it.
class pooled_connection {
 public:
  pooled_connection() = default;
  pooled_connection(pooled_connection&& o) noexcept
      : pool_(std::exchange(o.pool_, nullptr)), conn_(std::move(o.conn_)), permit_(std::move(o.permit_)) {
    o.conn_.reset();
  }
  pooled_connection& operator=(pooled_connection&& o) noexcept {
    if (this != &o) {
      give_back();
      pool_ = std::exchange(o.pool_, nullptr);
      conn_ = std::move(o.conn_);
      o.conn_.reset();
      permit_ = std::move(o.permit_);
    }
    return *this;
  }
  ~pooled_connection() { give_back(); }

  [[nodiscard]] connection& operator*() noexcept { return *conn_; }
  [[nodiscard]] connection* operator->() noexcept { return &*conn_; }

 private:
  friend class pool;
  pooled_connection(pool* p, connection c, aio::semaphore::permit permit) noexcept
      : pool_(p), conn_(std::move(c)), permit_(std::move(permit)) {}
  inline void give_back() noexcept;

  pool* pool_ = nullptr;
  std::optional<connection> conn_;
  aio::semaphore::permit permit_;  // after conn_: its slot is freed only once the connection is back
};

/// asyncpg.create_pool(url, max_size=n): at most `max_size` connections,
/// opened when first needed and kept for the next acquire().
class pool {
 public:
  pool(std::string url, std::size_t max_size)
      : url_(std::move(url)), slots_(static_cast<std::ptrdiff_t>(max_size)) {}
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// pool.acquire(): an idle connection, a new one if none is idle and fewer
  /// than max_size are open, else waits (FIFO) for one to be given back.
  /// Cancellation: stops waiting; nothing is taken.
  /// Throws what connection::connect throws.
  [[nodiscard]] aio::task<pooled_connection> acquire() {
    aio::semaphore::permit permit = co_await slots_.acquire();
    if (!idle_.empty()) {
      connection c = std::move(idle_.back());
      idle_.pop_back();
      co_return pooled_connection(this, std::move(c), std::move(permit));
    }
    auto connecting = connection::connect(url_);
    connection c = co_await std::move(connecting);
    co_return pooled_connection(this, std::move(c), std::move(permit));
  }

  /// pool.close(): closes the idle connections; those lent out are closed
  /// when given back.
  void close() noexcept {
    closed_ = true;
    idle_.clear();
  }

 private:
  friend class pooled_connection;
  void take_back(connection c) noexcept {
    if (!closed_ && c.idle()) idle_.push_back(std::move(c));
  }

  std::string url_;
  aio::semaphore slots_;
  std::vector<connection> idle_;
  bool closed_ = false;
};

inline void pooled_connection::give_back() noexcept {
  if (pool_ != nullptr && conn_) pool_->take_back(std::move(*conn_));
  conn_.reset();
  pool_ = nullptr;
  permit_.release();
}

}  // namespace pg
