// nginx on loopback for the aio::http tests: a server no one here wrote.
//
//   aio::test::nginx_server ng{R"(location = /ok { return 200 "ok\n"; })"};
//   ng.write_file("hello.txt", "hello\n");      // under the document root
//   co_await aio::test::with_nginx(ng, body);   // starts, runs body(ng), stops
//
// (Also in front of aio's server: nginx_server{locations, "upstream ... {}"}
// with proxy_pass, in test_http_server.cpp.)
//
// Everything lives in a temporary directory made by the constructor and
// removed by the destructor: the generated nginx.conf, the document root
// (html/), the pid file, the error log and the temp paths. nginx runs in the
// foreground (`daemon off`) as one process (`master_process off`: that one
// process is the worker), listens on 127.0.0.1 on a free port, logs no
// access, keeps connections alive, and adds `X-Conn: $connection` and
// `X-Conn-Requests: $connection_requests` to every response so a test can see
// which connection served it. It is started through aio's subprocess support
// (setpriv --pdeathsig KILL, where available, so it dies with the test even
// if the test crashes) and stopped with SIGTERM (SIGKILL after 3 s).
//
// If nginx is not installed the constructor throws a std::runtime_error
// saying so: the tests fail rather than skip (scripts/test installs nginx).
#pragma once

#include "http_support.hpp"

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/subprocess.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace aio::test {

/// The nginx binary: on PATH, or Debian's /usr/sbin/nginx (not on a normal
/// user's PATH); "" if there is none.
inline std::string find_nginx() {
  if (have_program("nginx")) return "nginx";
  for (const char* p : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

class nginx_server {
 public:
  /// `server_directives` go into the `server { }` block, after `listen` and
  /// `root` (locations, mostly); `http_directives` into the `http { }` block
  /// (an `upstream`, say).
  explicit nginx_server(std::string server_directives = {}, std::string http_directives = {})
      : directives_(std::move(server_directives)), http_directives_(std::move(http_directives)) {
    binary_ = find_nginx();
    if (binary_.empty())
      throw std::runtime_error(
          "nginx is not installed: these tests need it (scripts/test installs it as root; "
          "otherwise: sudo apt-get install nginx)");
    char tmpl[] = "/tmp/aio-nginx-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ + "/html");
    token_ = dir_.substr(dir_.rfind('-') + 1);
  }
  nginx_server(const nginx_server&) = delete;
  nginx_server& operator=(const nginx_server&) = delete;
  /// Kills nginx if stop() did not run (a safety net: with_nginx stops it),
  /// and removes the directory.
  ~nginx_server() {
    if (pid_ > 0) {
      if (!proc_.returncode()) ::kill(pid_, SIGKILL);
      // stop() did not run (start() failed half-way, say): the process
      // object must not be destroyed now, after its loop closed (its
      // destructor unregisters from the loop), so it is left behind.
      static_cast<void>(new process(std::move(proc_)));
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
  [[nodiscard]] std::string root() const { return dir_ + "/html"; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT" + path.
  [[nodiscard]] std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  /// Writes `content` to root()/relative_path (directories made as needed).
  void write_file(const std::string& relative_path, std::string_view content) const {
    const std::filesystem::path p = root() + "/" + relative_path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }

  [[nodiscard]] std::string error_log() const {
    std::ifstream in(dir_ + "/error.log", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  /// Starts nginx and returns once it answers on its port (a probe request
  /// that only this instance answers, so another server that happens to
  /// take the port is not mistaken for it). A port taken meanwhile is
  /// replaced by another free one, a few times.
  /// Throws: std::runtime_error with nginx's error log if it does not start.
  task<void> start() {
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      write_config();
      std::ofstream(dir_ + "/error.log", std::ios::trunc).flush();  // this attempt's log only
      std::vector<std::string> args{binary_, "-p", dir_ + "/", "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log"};
      std::string program = binary_;
      if (have_program("setpriv")) {
        args.insert(args.begin(), {"--pdeathsig", "KILL", "--"});
        program = "setpriv";
      } else {
        args.erase(args.begin());
      }
      process_options o;
      o.stdin_mode = redirect::devnull;
      o.stdout_mode = redirect::devnull;
      o.stderr_mode = redirect::devnull;
      auto spawning = create_subprocess_exec(program, std::move(args), o);
      proc_ = co_await std::move(spawning);
      pid_ = proc_.pid();
      bool up = false;
      std::exception_ptr failure;  // cancelled while waiting (a deadline): stop, then rethrow
      try {
        up = co_await wait_ready();
      } catch (...) {
        failure = std::current_exception();
      }
      if (up) co_return;
      const bool exited = proc_.returncode().has_value();
      co_await stop();
      if (failure) std::rethrow_exception(failure);
      const std::string log = error_log();
      if (exited && log.find("Address already in use") != std::string::npos && attempt < 4) continue;
      throw std::runtime_error("nginx did not start (" + dir_ + "/nginx.conf); its error log:\n" + log);
    }
  }

  /// SIGTERM (nginx's fast shutdown), then SIGKILL if it is still there after 3 s.
  task<void> stop() {
    if (pid_ <= 0) co_return;
    if (!proc_.returncode()) proc_.terminate();
    bool exited = false;
    try {
      auto waiting = proc_.wait();
      (void)co_await aio::wait_for(std::move(waiting), std::chrono::seconds(3));
      exited = true;
    } catch (const aio::timeout_error&) {
    }
    if (!exited) {
      proc_.kill();
      (void)co_await proc_.wait();
    }
    proc_ = process{};  // destroyed here, on the loop: not after it closed
    pid_ = -1;
  }

  /// True while nginx runs.
  [[nodiscard]] bool running() const noexcept { return pid_ > 0 && !proc_.returncode(); }

 private:
  void write_config() const {
    std::ostringstream c;
    c << "daemon off;\n"
      << "master_process off;\n"
      << "worker_processes 1;\n"
      << (::geteuid() == 0 ? "user root;\n" : "")
      << "pid " << dir_ << "/nginx.pid;\n"
      << "error_log " << dir_ << "/error.log warn;\n"
      << "events { worker_connections 512; }\n"
      << "http {\n"
      << "  access_log off;\n"
      << "  client_body_temp_path " << dir_ << "/client_body;\n"
      << "  proxy_temp_path " << dir_ << "/proxy;\n"
      << "  fastcgi_temp_path " << dir_ << "/fastcgi;\n"
      << "  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
      << "  scgi_temp_path " << dir_ << "/scgi;\n"
      << "  default_type application/octet-stream;\n"
      << "  types { text/plain txt; text/html html shtml; }\n"
      << "  keepalive_timeout 30s;\n"
      << "  keepalive_requests 100000;\n"
      << http_directives_ << "\n"
      << "  server {\n"
      << "    listen 127.0.0.1:" << port_ << ";\n"
      << "    root " << dir_ << "/html;\n"
      << "    add_header X-Conn $connection always;\n"
      << "    add_header X-Conn-Requests $connection_requests always;\n"
      << "    location = /__aio_ready { return 200 \"" << token_ << "\"; }\n"
      << directives_ << "\n"
      << "  }\n"
      << "}\n";
    std::ofstream(dir_ + "/nginx.conf") << c.str();
  }

  /// Probes every 10 ms for up to 5 s; false if nginx exited or never answered.
  task<bool> wait_ready() {
    for (int i = 0; i < 500; ++i) {
      if (proc_.returncode()) co_return false;
      try {
        auto connecting = raw_client::connect(port_);
        raw_client c = co_await std::move(connecting);
        c.send("GET /__aio_ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        auto answering = c.response();
        raw_response r = co_await std::move(answering);
        c.writer.close();
        if (r.status == 200 && r.body == token_) co_return true;
      } catch (const std::exception&) {
        // not listening yet (refused), or someone else's server: try again
      }
      co_await aio::sleep(std::chrono::milliseconds(10));
    }
    co_return false;
  }

  std::string directives_;
  std::string http_directives_;
  std::string binary_;
  std::string dir_;
  std::string token_;
  std::uint16_t port_ = 0;
  process proc_;
  int pid_ = -1;
};

/// Starts `ng`, runs `body(ng, args...)`, and stops nginx whatever happens:
/// also when the body throws or is cancelled (a wait_for deadline), so no
/// nginx outlives the loop. `body` is a function (no capturing coroutine
/// lambdas); `args` are passed by value.
template <class Body, class... Args>
task<void> with_nginx(nginx_server& ng, Body body, Args... args) {
  co_await ng.start();
  std::exception_ptr failure;
  try {
    auto running = body(ng, args...);
    co_await std::move(running);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await ng.stop();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace aio::test
