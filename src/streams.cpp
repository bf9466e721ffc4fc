#include <aio/streams.hpp>

#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace aio {

using detail::stream_transport;
using detail::transport_ref;

incomplete_read_error::incomplete_read_error(std::string partial_bytes, std::size_t expected_bytes)
    : std::runtime_error(std::to_string(partial_bytes.size()) + " bytes read on a total of " +
                         (expected_bytes ? std::to_string(expected_bytes) : std::string("undefined")) +
                         " expected bytes (the stream ended)"),
      partial(std::move(partial_bytes)),
      expected(expected_bytes) {}

namespace {

// --- addresses -------------------------------------------------------------

struct address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

endpoint to_endpoint(const sockaddr* sa) {
  endpoint e;
  char text[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    e.host = text;
    e.port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    e.host = text;
    e.port = ntohs(in6->sin6_port);
  } else if (sa->sa_family == AF_UNIX) {
    e.host = reinterpret_cast<const sockaddr_un*>(sa)->sun_path;
  }
  return e;
}

std::string where(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

class gai_category_t final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};
const std::error_category& gai_category() {
  static const gai_category_t category;
  return category;
}

/// A numeric address needs no resolver (and no thread hop).
bool parse_numeric(const std::string& host, std::uint16_t port, address& out) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, h.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET6, h.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::vector<address> getaddrinfo_blocking(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) throw std::system_error(errno, std::generic_category(), "aio: cannot resolve " + where(host, port));
    throw std::system_error(rc, gai_category(), "aio: cannot resolve " + where(host, port));
  }
  std::vector<address> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  ::freeaddrinfo(list);
  return out;
}

/// Name resolution, as asyncio does it: on the thread pool, unless numeric.
task<std::vector<address>> resolve(std::string host, std::uint16_t port, bool passive) {
  address numeric;
  if (!host.empty() && parse_numeric(host, port, numeric)) co_return std::vector<address>(1, numeric);
  auto blocking = [host, port, passive] { return getaddrinfo_blocking(host, port, passive); };
  co_return co_await to_thread(blocking);
}

address unix_address(const std::string& path) {
  address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage);
  if (path.size() >= sizeof un->sun_path)
    throw std::system_error(ENAMETOOLONG, std::generic_category(), "aio: unix socket path too long: " + path);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
  a.length = sizeof(sockaddr_un);
  return a;
}

int open_socket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "aio: socket()");
  return fd;
}

void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // best effort, as asyncio
}

/// Connects one socket; on failure returns the errno.
task<int> connect_one(transport_ref t, address a) {
  if (::connect(t->fd(), a.get(), a.length) == 0) co_return 0;
  if (errno != EINPROGRESS) co_return errno;
  detail::io_wait_operation wait{t->registration(), true};
  co_await wait;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(t->fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  co_return err;
}

task<std::pair<stream_reader, stream_writer>> connect_to(std::vector<address> addrs, std::string what,
                                                         std::size_t limit, bool tcp) {
  int last_error = EHOSTUNREACH;
  event_loop& loop = get_running_loop();
  for (const address& a : addrs) {
    transport_ref t{new stream_transport(loop, open_socket(a.family()), stream_transport::kind::socket, limit)};
    const int err = co_await connect_one(t, a);
    if (err == 0) {
      if (tcp) set_nodelay(t->fd());
      co_return std::pair<stream_reader, stream_writer>{stream_reader{t}, stream_writer{t}};
    }
    last_error = err;
  }
  throw std::system_error(last_error, std::generic_category(), "aio: cannot connect to " + what);
}

// --- reading ---------------------------------------------------------------

/// Holds the stream's single read slot for the duration of one read.
class read_guard {
 public:
  explicit read_guard(stream_transport* t) : t_(t) { t_->begin_read(); }
  read_guard(const read_guard&) = delete;
  read_guard& operator=(const read_guard&) = delete;
  ~read_guard() { t_->end_read(); }

 private:
  stream_transport* t_;
};

task<std::string> read_some(transport_ref t, std::ptrdiff_t n) {
  if (n == 0) co_return std::string{};
  read_guard guard{t.get()};
  if (n < 0) {
    while (!t->eof_seen()) co_await stream_transport::fill(t.get());
    co_return t->take(t->buffered().size());
  }
  if (t->buffered().empty()) co_await stream_transport::fill(t.get());
  co_return t->take(static_cast<std::size_t>(n));
}

task<std::string> read_exactly(transport_ref t, std::size_t n) {
  read_guard guard{t.get()};
  while (t->buffered().size() < n) {
    if (t->eof_seen()) throw incomplete_read_error(t->take(t->buffered().size()), n);
    co_await stream_transport::fill(t.get());
  }
  co_return t->take(n);
}

/// readuntil; with `partial_at_eof` (readline) the end of stream returns what is left.
task<std::string> read_until(transport_ref t, std::string separator, bool partial_at_eof) {
  if (separator.empty()) throw value_error("aio::stream_reader::readuntil(): the separator must not be empty");
  read_guard guard{t.get()};
  std::size_t searched = 0;  // no separator starts before this offset
  for (;;) {
    const std::string_view buf = t->buffered();
    const std::size_t found = buf.find(separator, searched);
    if (found != std::string_view::npos) {
      const std::size_t end = found + separator.size();
      if (end > t->limit())
        throw limit_overrun_error("aio: separator is found, but the chunk is longer than the limit", found);
      co_return t->take(end);
    }
    if (buf.size() > t->limit())
      throw limit_overrun_error("aio: separator is not found, and the chunk exceeds the limit", buf.size());
    if (buf.size() >= separator.size()) searched = buf.size() - separator.size() + 1;
    if (t->eof_seen()) {
      std::string rest = t->take(buf.size());
      if (partial_at_eof) co_return rest;
      throw incomplete_read_error(std::move(rest), 0);
    }
    co_await stream_transport::fill(t.get());
  }
}

}  // namespace

std::string endpoint::to_string() const {
  if (port == 0 && !host.empty() && host.front() == '/') return host;
  return where(host, port);
}

task<std::string> stream_reader::read(std::ptrdiff_t n) { return read_some(t_, n); }
task<std::string> stream_reader::readexactly(std::size_t n) { return read_exactly(t_, n); }
task<std::string> stream_reader::readline() { return read_until(t_, "\n", true); }
task<std::string> stream_reader::readuntil(std::string separator) { return read_until(t_, std::move(separator), false); }

namespace {
task<void> drain_transport(transport_ref t) { co_await stream_transport::drain(t.get()); }
task<void> wait_transport_closed(transport_ref t) { co_await stream_transport::wait_closed(t.get()); }
}  // namespace

task<void> stream_writer::drain() { return drain_transport(t_); }
task<void> stream_writer::wait_closed() { return wait_transport_closed(t_); }

endpoint stream_writer::peername() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(t_->fd(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw std::system_error(errno, std::generic_category(), "aio: getpeername");
  return to_endpoint(reinterpret_cast<sockaddr*>(&ss));
}

endpoint stream_writer::sockname() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(t_->fd(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    throw std::system_error(errno, std::generic_category(), "aio: getsockname");
  return to_endpoint(reinterpret_cast<sockaddr*>(&ss));
}

std::string stream_writer::get_extra_info(std::string_view name) const {
  if (name == "peername") return peername().to_string();
  if (name == "sockname") return sockname().to_string();
  if (name == "socket") return std::to_string(t_->fd());
  return {};
}

task<std::pair<stream_reader, stream_writer>> open_connection(std::string host, std::uint16_t port,
                                                              std::size_t limit) {
  std::vector<address> addrs = co_await resolve(host, port, false);
  co_return co_await connect_to(std::move(addrs), where(host, port), limit, true);
}

task<std::pair<stream_reader, stream_writer>> open_unix_connection(std::string path, std::size_t limit) {
  std::vector<address> addrs(1, unix_address(path));  // g++ 12 rejects a braced temporary inside co_await
  co_return co_await connect_to(std::move(addrs), path, limit, false);
}

detail::io_wait_operation wait_readable(int fd) {
  return detail::io_wait_operation{get_running_loop().io().foreign(fd), false};
}
detail::io_wait_operation wait_writable(int fd) {
  return detail::io_wait_operation{get_running_loop().io().foreign(fd), true};
}

// --- servers ---------------------------------------------------------------

namespace detail {

struct server_state {
  struct listener {
    io_registration reg;
    endpoint where;
  };
  event_loop* loop = nullptr;
  connection_handler handler;
  std::size_t limit = 0;
  bool tcp = true;
  bool serving = false;
  bool closed = false;
  std::size_t active = 0;
  std::string unix_path;
  std::vector<std::unique_ptr<listener>> listeners;
  std::vector<future<void>> accept_tasks;
  future<void> stopped;  // set by close(): serve_forever returns
  future<void> idle;     // set when closed and every handler finished

  ~server_state() { close_listeners(); }

  void close_listeners() noexcept {
    for (auto& l : listeners) {
      if (l->reg.fd < 0) continue;
      loop->io().remove(l->reg);
      ::close(l->reg.fd);
      l->reg.fd = -1;
    }
    if (!unix_path.empty()) {
      ::unlink(unix_path.c_str());
      unix_path.clear();
    }
  }
  void check_idle() {
    if (closed && active == 0 && !idle.done()) idle.set_result();
  }
};

}  // namespace detail

namespace {

task<void> run_connection(std::shared_ptr<detail::server_state> st, stream_reader reader, stream_writer writer) {
  ++st->active;
  try {
    co_await st->handler(reader, writer);
  } catch (const cancelled_error&) {
    // The server is shutting down: not an error.
  } catch (const std::exception& e) {
    log(std::string("aio: unhandled exception in a connection handler: ") + e.what());
  }
  // Like a StreamWriter collected by Python: queued data is sent, then closed.
  writer.close();
  --st->active;
  st->check_idle();
}

task<void> accept_loop(std::shared_ptr<detail::server_state> st, detail::server_state::listener* l) {
  for (;;) {
    const int fd = ::accept4(l->reg.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        l->reg.readable = false;
        detail::io_wait_operation wait{l->reg, false};
        co_await wait;
        continue;
      }
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      // Out of descriptors or memory: back off instead of spinning, as asyncio does.
      log("aio: accept() on " + l->where.to_string() + " failed: " + std::strerror(err) + "; retrying in 1 s");
      co_await sleep(std::chrono::seconds(1));
      continue;
    }
    if (st->tcp) set_nodelay(fd);
    transport_ref t{new stream_transport(*st->loop, fd, stream_transport::kind::socket, st->limit)};
    (void)create_task(run_connection(st, stream_reader{t}, stream_writer{t}), "connection");
  }
}

void listen_on(detail::server_state& st, const address& a, int backlog, const std::string& what) {
  const int fd = open_socket(a.family());
  auto fail = [&](const char* step) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), std::string("aio: ") + step + " " + what);
  };
  const int one = 1;
  if (a.family() != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, a.get(), a.length) < 0) fail("cannot bind to");
  if (::listen(fd, backlog) < 0) fail("cannot listen on");
  auto l = std::make_unique<detail::server_state::listener>();
  l->reg.fd = fd;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  l->where = a.family() == AF_UNIX ? endpoint{what, 0} : to_endpoint(reinterpret_cast<sockaddr*>(&ss));
  try {
    st.loop->io().add(l->reg);
  } catch (...) {
    ::close(fd);
    throw;
  }
  st.listeners.push_back(std::move(l));
}

std::shared_ptr<detail::server_state> new_server(connection_handler handler, std::size_t limit, bool tcp) {
  if (!handler) throw value_error("aio::start_server(): the connection handler is empty");
  auto st = std::make_shared<detail::server_state>();
  st->loop = &get_running_loop();
  st->handler = std::move(handler);
  st->limit = limit;
  st->tcp = tcp;
  return st;
}

void start_accepting(const std::shared_ptr<detail::server_state>& st) {
  st->serving = true;
  for (auto& l : st->listeners) st->accept_tasks.push_back(create_task(accept_loop(st, l.get()), "accept"));
}

}  // namespace

task<server> start_server(connection_handler handler, std::string host, std::uint16_t port, int backlog,
                          std::size_t limit) {
  auto st = new_server(std::move(handler), limit, true);
  // g++ 12 frees a conditional's temporary twice inside a co_await operand: name it.
  std::string bind_host = host.empty() ? std::string("0.0.0.0") : host;
  std::vector<address> addrs = co_await resolve(bind_host, port, true);
  for (address& a : addrs) {
    // With port 0, every address of the name listens on the port the first got.
    if (!st->listeners.empty() && port == 0) {
      const std::uint16_t chosen = st->listeners.front()->where.port;
      if (a.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(chosen);
      if (a.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(chosen);
    }
    listen_on(*st, a, backlog, where(host, port));
  }
  start_accepting(st);
  co_return server{st};
}

task<server> start_unix_server(connection_handler handler, std::string path, int backlog, std::size_t limit) {
  auto st = new_server(std::move(handler), limit, false);
  const address a = unix_address(path);
  // A socket file left by an earlier run would make bind fail: replace it (asyncio does too).
  struct stat sb {};
  if (::stat(path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) ::unlink(path.c_str());
  listen_on(*st, a, backlog, path);
  st->unix_path = path;
  start_accepting(st);
  co_return server{st};
}

std::uint16_t server::port() const {
  if (!s_ || s_->listeners.empty()) throw invalid_state_error("aio::server::port(): the server has no socket");
  return s_->listeners.front()->where.port;
}

std::vector<endpoint> server::sockets() const {
  std::vector<endpoint> out;
  if (s_ && !s_->closed)
    for (auto& l : s_->listeners) out.push_back(l->where);
  return out;
}

bool server::is_serving() const noexcept { return s_ && s_->serving; }

void server::close() {
  if (!s_ || s_->closed) return;
  s_->closed = true;
  s_->serving = false;
  for (auto& f : s_->accept_tasks) f.cancel();
  s_->accept_tasks.clear();
  s_->close_listeners();
  if (!s_->stopped.done()) s_->stopped.set_result();
  s_->check_idle();
}

namespace {
task<void> wait_server_closed(std::shared_ptr<detail::server_state> st) {
  if (!st) co_return;
  future<void> idle = st->idle;
  co_await shield(idle);  // many may wait; our cancellation must not complete it for all
}
task<void> serve_until_closed(server self, std::shared_ptr<detail::server_state> st) {
  try {
    future<void> stopped = st->stopped;
    co_await shield(stopped);
  } catch (const cancelled_error&) {
    self.close();
    throw;
  }
}
}  // namespace

task<void> server::wait_closed() { return wait_server_closed(s_); }
task<void> server::serve_forever() {
  if (!s_ || s_->closed) throw invalid_state_error("aio::server::serve_forever() on a closed server");
  return serve_until_closed(*this, s_);
}

}  // namespace aio
