// aio/http/server.hpp — an HTTP/1.1 server shaped like FastAPI: an app with
// routes per method and path, coroutine handlers, dependencies, background
// tasks, and a server with keep-alive, pipelining, timeouts and graceful
// shutdown (what uvicorn adds to FastAPI).
//
//   aio::task<aio::http::response> get_user(aio::http::request& req, user_store& db) {
//     co_return aio::http::response::json(db.find(req.path_param("id")));
//   }
//   aio::task<user_store&> get_db(aio::http::request&) { co_return the_store; }
//
//   aio::http::app app;
//   app.dependency(get_db);                 // FastAPI's Depends(get_db)
//   app.get("/users/{id}", get_user);
//   co_await aio::http::serve(app, "127.0.0.1", 8000);   // until SIGINT / SIGTERM
//
// Handlers are functions (or capture-free lambdas: no capturing coroutine
// lambdas) taking `aio::http::request&` and then any number of dependency
// references, returning aio::task<aio::http::response> or
// aio::task<aio::http::json> (sent as application/json, as FastAPI returns a
// dict). A parameter `aio::http::background_tasks&` is FastAPI's
// BackgroundTasks; any other `T&` is produced for each request by the provider
// registered with app.dependency() — a function taking `request&` (or nothing)
// and returning aio::task<T> (a new T per request, destroyed after the
// response: put cleanup in its destructor, as FastAPI's `yield` dependencies
// do) or aio::task<T&> (a shared object).
//
// What the server answers by itself (JSON bodies `{"detail": ...}`, as
// FastAPI): 404 when no route matches the path, 405 (with Allow) when routes
// match the path but not the method, the parser's 400 / 413 / 431 / 501 / 505
// (then the connection closes), 408 when a started request is not complete
// within request_timeout, 422 for a body that req.json() cannot parse, the
// status of an http_error a handler throws, and 500 for any other exception
// (reported through aio::log). HEAD is answered by the GET route without the
// body. Pipelined requests are answered in order. A handler returning
// response::stream(generator, content_type) streams its body chunk by chunk,
// with back-pressure (see response in message.hpp).
//
// Loop-affine, not thread-safe.
#pragma once

#include <aio/future.hpp>
#include <aio/http/json.hpp>
#include <aio/http/message.hpp>
#include <aio/streams.hpp>
#include <aio/task.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aio::http {

struct server_options {
  http::limits limits{};
  /// A keep-alive connection with no request in progress is closed after this
  /// (uvicorn's timeout_keep_alive).
  std::chrono::nanoseconds keep_alive_timeout = std::chrono::seconds(5);
  /// Once a request's first byte has arrived, the whole request must arrive
  /// within this, or the server answers 408 and closes (slow clients,
  /// slowloris); a response the client does not read within this is dropped.
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(10);
  /// Graceful shutdown waits this long for in-flight requests and background
  /// tasks, then cancels them (uvicorn's timeout_graceful_shutdown).
  std::chrono::nanoseconds shutdown_timeout = std::chrono::seconds(30);
  int backlog = 1024;
};

namespace detail {

template <class... T>
struct type_list {};

template <class F>
struct callable_signature : callable_signature<decltype(&F::operator())> {};
template <class R, class... A>
struct callable_signature<R (*)(A...)> {
  using result = R;
  using args = type_list<A...>;
};
template <class R, class... A>
struct callable_signature<R(A...)> : callable_signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_signature<R (C::*)(A...)> : callable_signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_signature<R (C::*)(A...) const> : callable_signature<R (*)(A...)> {};

template <class T>
struct task_value;
template <class T>
struct task_value<task<T>> {
  using type = T;
};

struct app_state;
using erased_handler = std::function<task<response>(request&, const app_state&)>;
using erased_provider = std::function<task<std::shared_ptr<void>>(request&)>;

struct route_segment {
  std::string text;  // a literal, or the parameter's name
  bool parameter = false;
};

struct route {
  std::string method;
  std::string pattern;
  std::vector<route_segment> segments;
  erased_handler handler;
  std::vector<std::pair<std::type_index, const char*>> needs;  // dependencies, for the check at start
};

struct app_state {
  std::vector<route> routes;
  std::unordered_map<std::type_index, erased_provider> providers;

  void add_route(std::string method, std::string pattern, erased_handler handler,
                 std::vector<std::pair<std::type_index, const char*>> needs);
  /// The provider's task for type `t`. Throws std::logic_error if none.
  [[nodiscard]] task<std::shared_ptr<void>> resolve(std::type_index t, const char* name, request& req) const;
  /// Throws invalid_state_error naming the first dependency without a provider.
  void check_dependencies() const;
  /// Routes and runs the handler; turns errors into responses.
  [[nodiscard]] task<response> handle(request& req) const;
};

inline response to_response(response r) noexcept { return r; }
inline response to_response(const json& j) { return response::json(j); }

template <class Arg>
using dependency_t = std::remove_cvref_t<Arg>;

template <class F, class... Args, std::size_t... I>
auto call_handler(F& f, request& req, std::shared_ptr<void>* deps, std::index_sequence<I...>) {
  return std::invoke(f, req, *static_cast<dependency_t<Args>*>(deps[I].get())...);
}

/// Produces each dependency in parameter order, then runs the handler. The
/// dependencies live in this frame, so they outlive the handler's run.
template <class F, class... Args>
task<response> invoke_handler(F f, request& req, const app_state* app) {
  if constexpr (sizeof...(Args) == 0) {
    auto t = std::invoke(f, req);
    co_return to_response(co_await std::move(t));
  } else {
    std::shared_ptr<void> deps[sizeof...(Args)];
    const std::type_index ids[] = {std::type_index(typeid(dependency_t<Args>))...};
    const char* names[] = {typeid(dependency_t<Args>).name()...};
    const bool builtin[] = {std::is_same_v<dependency_t<Args>, background_tasks>...};
    for (std::size_t i = 0; i < sizeof...(Args); ++i) {
      if (builtin[i]) {
        deps[i] = std::shared_ptr<void>(std::shared_ptr<void>(), &req.background_tasks());
      } else {
        auto provided = app->resolve(ids[i], names[i], req);
        deps[i] = co_await std::move(provided);
      }
    }
    auto t = call_handler<F, Args...>(f, req, deps, std::index_sequence_for<Args...>{});
    co_return to_response(co_await std::move(t));
  }
}

template <class F, class First, class... Args>
erased_handler make_handler(F f, type_list<First, Args...>) {
  static_assert(std::is_same_v<First, request&>,
                "aio::http: a handler's first parameter must be `aio::http::request&`");
  static_assert((std::is_lvalue_reference_v<Args> && ...),
                "aio::http: a handler's dependency parameters must be references (`db& d`, not `db d`)");
  using result = decltype(std::invoke(f, std::declval<request&>(), std::declval<dependency_t<Args>&>()...));
  if constexpr (sizeof...(Args) == 0 && std::is_same_v<result, task<response>>) {
    // Nothing to produce or convert: the handler's own task is the response
    // (one coroutine frame less per request).
    return [f = std::move(f)](request& req, const app_state&) mutable { return std::invoke(f, req); };
  } else {
    return [f = std::move(f)](request& req, const app_state& app) { return invoke_handler<F, Args...>(f, req, &app); };
  }
}

template <class... Args>
std::vector<std::pair<std::type_index, const char*>> needs_of(type_list<request&, Args...>) {
  std::vector<std::pair<std::type_index, const char*>> out;
  (
      [&] {
        if constexpr (!std::is_same_v<dependency_t<Args>, background_tasks>)
          out.emplace_back(std::type_index(typeid(dependency_t<Args>)), typeid(dependency_t<Args>).name());
      }(),
      ...);
  return out;
}

template <class P, class V>
task<std::shared_ptr<void>> run_provider(P p, request& req) {
  auto t = [&] {
    if constexpr (std::is_invocable_v<P&, request&>) return std::invoke(p, req);
    else return std::invoke(p);
  }();
  if constexpr (std::is_reference_v<V>) {
    auto& ref = co_await std::move(t);
    using plain = std::remove_cvref_t<V>;
    co_return std::shared_ptr<void>(std::shared_ptr<void>(), const_cast<plain*>(&ref));
  } else {
    co_return std::make_shared<V>(co_await std::move(t));
  }
}

struct http_server_state;

}  // namespace detail

/// FastAPI(): routes and dependencies. Copies share one state, so a running
/// server sees routes added later.
class app {
 public:
  app();

  /// Adds a route: `method` ("GET"), a path pattern ("/users/{id}": literal
  /// segments and {name} parameters, each a whole segment), and a handler (see
  /// the top of this file). Routes are tried in the order added.
  /// Throws: value_error for a malformed pattern.
  template <class F>
  app& route(std::string method, std::string pattern, F handler) {
    using sig = detail::callable_signature<std::decay_t<F>>;
    static_assert(requires { typename detail::task_value<typename sig::result>::type; },
                  "aio::http: a handler must return aio::task<aio::http::response> or aio::task<aio::http::json>");
    s_->add_route(std::move(method), std::move(pattern),
                  detail::make_handler(std::decay_t<F>(std::move(handler)), typename sig::args{}),
                  detail::needs_of(typename sig::args{}));
    return *this;
  }
  /// @app.get(path)
  template <class F>
  app& get(std::string pattern, F handler) {
    return route("GET", std::move(pattern), std::move(handler));
  }
  template <class F>
  app& post(std::string pattern, F handler) {
    return route("POST", std::move(pattern), std::move(handler));
  }
  template <class F>
  app& put(std::string pattern, F handler) {
    return route("PUT", std::move(pattern), std::move(handler));
  }
  template <class F>
  app& patch(std::string pattern, F handler) {
    return route("PATCH", std::move(pattern), std::move(handler));
  }
  /// @app.delete(path) (`delete` is a C++ keyword).
  template <class F>
  app& delete_(std::string pattern, F handler) {
    return route("DELETE", std::move(pattern), std::move(handler));
  }

  /// Registers the provider of a dependency type (FastAPI's Depends(get_db)):
  /// `provider` takes `request&` (or nothing) and returns aio::task<T> or
  /// aio::task<T&>; handlers taking a `T&` parameter get what it produced for
  /// their request. Replaces an earlier provider of the same T.
  template <class P>
  app& dependency(P provider) {
    using sig = detail::callable_signature<std::decay_t<P>>;
    using V = typename detail::task_value<typename sig::result>::type;
    using T = std::remove_cvref_t<V>;
    s_->providers[std::type_index(typeid(T))] = [p = std::move(provider)](request& req) {
      return detail::run_provider<P, V>(p, req);
    };
    return *this;
  }

  /// Answers one request without any network: routing, dependencies, the
  /// handler, and the error responses above (for tests, or to embed the app).
  /// Resumes: when the handler has finished.
  /// Cancellation: the handler is cancelled.
  [[nodiscard]] task<response> handle(request& req) const { return s_->handle(req); }

  [[nodiscard]] const std::shared_ptr<detail::app_state>& state() const noexcept { return s_; }

 private:
  std::shared_ptr<detail::app_state> s_;
};

/// A running HTTP server (uvicorn's Server). Copies share it.
class server {
 public:
  server() noexcept = default;
  explicit server(std::shared_ptr<detail::http_server_state> s) noexcept : s_(std::move(s)) {}

  /// The bound port: useful after binding port 0.
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::vector<endpoint> sockets() const;
  /// Open client connections.
  [[nodiscard]] std::size_t connections() const noexcept;
  /// Background tasks not finished yet.
  [[nodiscard]] std::size_t background_tasks_running() const noexcept;

  /// Graceful shutdown (uvicorn on SIGINT): stops accepting, closes idle
  /// keep-alive connections, lets requests in progress finish (their
  /// responses say `Connection: close`) and background tasks run; after
  /// shutdown_timeout cancels whatever is left. Returns at once; safe to call
  /// from a signal handler installed with loop.add_signal_handler, and more
  /// than once.
  void shutdown();
  /// Waits until shutdown has finished: every connection closed, every
  /// background task done.
  /// Cancellation: stops waiting; the shutdown goes on.
  [[nodiscard]] task<void> wait_closed();
  /// Serves until shutdown() (by a signal handler, say), then waits for it to
  /// finish. If cancelled: shuts down gracefully, waits, throws cancelled_error.
  [[nodiscard]] task<void> serve_forever();

 private:
  std::shared_ptr<detail::http_server_state> s_;
};

/// Starts serving `application` on host:port (port 0 picks a free one);
/// returns once listening.
/// Throws: std::system_error naming host and port (address in use, ...);
/// invalid_state_error if a handler needs a dependency with no provider.
/// Example: examples/13_fastapi_server.cpp
[[nodiscard]] task<server> start_server(app application, std::string host, std::uint16_t port,
                                        server_options options = {});

/// uvicorn.run(app): starts the server, serves until SIGINT or SIGTERM, then
/// shuts down gracefully and returns. The signal handlers are removed on return.
[[nodiscard]] task<void> serve(app application, std::string host, std::uint16_t port, server_options options = {});

}  // namespace aio::http
