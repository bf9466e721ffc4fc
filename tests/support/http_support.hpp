// Helpers for the aio::http tests: run a body under a real-time deadline, talk
// raw HTTP over a socket (to send exactly the bytes a test needs), capture
// aio::log, start helper programs (curl, wrk, Python's http.server) and find a
// free port for them. nginx.hpp runs nginx on top of these.
#pragma once

#include <aio/event_loop.hpp>
#include <aio/http/message.hpp>
#include <aio/log.hpp>
#include <aio/streams.hpp>
#include <aio/subprocess.hpp>
#include <aio/task.hpp>
#include <aio/timeouts.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace aio::test {

/// Runs `t` on a real-time loop, failing (timeout_error) instead of hanging.
template <class T>
T run_bounded(task<T> t, std::chrono::seconds limit = std::chrono::seconds(20)) {
  return aio::run(aio::wait_for(std::move(t), limit));
}

/// Collects what aio::log reports while alive.
struct log_capture {
  std::mutex m;
  std::vector<std::string> lines;
  aio::log_handler previous;
  log_capture() {
    previous = aio::set_log_handler([this](std::string_view s) {
      std::lock_guard<std::mutex> g(m);
      lines.emplace_back(s);
    });
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  ~log_capture() { aio::set_log_handler(std::move(previous)); }
  bool contains(std::string_view needle) {
    std::lock_guard<std::mutex> g(m);
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

/// A response as read off the wire.
struct raw_response {
  int status = 0;
  int version_minor = 1;
  http::headers headers;
  std::string body;
  bool keep_alive = true;
};

/// A client connection that writes exact bytes and parses what comes back.
struct raw_client {
  stream_reader reader;
  stream_writer writer;
  std::string buffer;

  static task<raw_client> connect(std::uint16_t port) {
    auto connecting = open_connection("127.0.0.1", port);
    auto [r, w] = co_await std::move(connecting);
    co_return raw_client{r, w, {}};
  }
  void send(std::string_view bytes) { writer.write(bytes); }

  /// The next response (interim 1xx ones included, as they come).
  task<raw_response> response(bool head_request = false) {
    http::response_parser p;
    p.set_head_request(head_request);
    for (;;) {
      if (!buffer.empty()) {
        const std::size_t used = p.feed(buffer);
        buffer.erase(0, used);
        if (p.complete()) break;
      }
      std::string data = co_await reader.read(65536);
      if (data.empty()) {
        p.finish();
        break;
      }
      buffer += data;
    }
    raw_response out;
    out.status = p.head().status;
    out.version_minor = p.head().version_minor;
    out.headers = p.head().headers;
    out.keep_alive = p.keep_alive();
    out.body = p.take_body();
    co_return out;
  }
  /// True if the server closed the connection (end of stream, nothing more).
  task<bool> closed_by_server() {
    if (!buffer.empty()) co_return false;
    std::string data = co_await reader.read(65536);
    buffer += data;
    co_return data.empty();
  }
  /// Everything until end of stream.
  task<std::string> read_to_end() {
    std::string all = std::move(buffer);
    buffer.clear();
    for (;;) {
      std::string data = co_await reader.read(65536);
      if (data.empty()) co_return all;
      all += data;
    }
  }
};

/// Runs a program and returns {exit code, stdout, stderr}.
struct run_output {
  int code = -1;
  std::string out;
  std::string err;
};
inline task<run_output> run_program(std::string program, std::vector<std::string> args, std::string input = {}) {
  process_options o;
  o.stdin_mode = redirect::pipe;
  o.stdout_mode = redirect::pipe;
  o.stderr_mode = redirect::pipe;
  auto starting = create_subprocess_exec(std::move(program), std::move(args), o);
  process p = co_await std::move(starting);
  auto talking = p.communicate(std::move(input));
  auto [out, err] = co_await std::move(talking);
  const int code = co_await p.wait();
  co_return run_output{code, std::move(out), std::move(err)};
}

/// True if `program` is on PATH.
inline bool have_program(const std::string& program) {
  const std::string cmd = "command -v " + program + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

/// A TCP port on 127.0.0.1 that nobody listens on now (bound to port 0 and
/// released), for a helper program that needs its port on the command line.
/// Another process may take it before the helper binds it: callers that can
/// tell (nginx.hpp) try again with another.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "free_port: socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
    const int e = errno;
    ::close(fd);
    throw std::system_error(e, std::generic_category(), "free_port: bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace aio::test
