/* tcp_echo_epoll — the tcp_echo workload of shared/bench/WORKLOADS.md, written
 * by hand in plain C (C11, POSIX, Linux epoll; no other library): what the
 * kernel allows for that workload on this machine, as a reference next to aio
 * and its peers (bench/run shows it as the column c_epoll).
 *
 * The same workload as aio_bench's tcp_echo, on one thread:
 * - Set-up (not measured): a listening socket on 127.0.0.1, port 0 (backlog
 *   100, SO_REUSEADDR, as aio::start_server), and 50 client connections to it
 *   in the same process; every socket is non-blocking, with TCP_NODELAY on
 *   both ends (as aio and asyncio). All 100 connected sockets are registered
 *   once with one epoll instance, edge-triggered, for reading and writing.
 * - Measured: each client does N/50 sequential round trips: send 64 bytes,
 *   read exactly 64 back, compare. The server side echoes whatever one recv()
 *   into a 64 KiB buffer returns. Reads go on until a short read or EAGAIN;
 *   sends are direct, and what a short send leaves is buffered and sent on
 *   EPOLLOUT (the server side stops reading meanwhile, as aio's drain()).
 * - One warm-up run, then 3 measured ones, each with fresh sockets; the best
 *   is printed as one JSON line, as aio_bench prints it, plus a "note".
 * Flags: --only NAME (only tcp_echo; for any other name nothing is printed and
 * the exit status is 0, so that bench/run can pass every program the same
 * flags), --n N (rounded to a multiple of 50, at least 50), --scale F, --list.
 * Any failing system call, a peer closing early, a wrong reply or 10 s without
 * any event ends the program with a message and exit status 1.
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK, SOCK_CLOEXEC */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  connections = 50,
  message_size = 64,
  server_read_size = 64 * 1024,
  backlog = 100,
  setup_timeout_ms = 5000,   /* one connect or accept during set-up */
  idle_timeout_ms = 10000,   /* the measured loop without any event */
  max_events = 128,
};
static const long default_n = 100000;
static const char program[] = "tcp_echo_epoll";
static const char note[] = "hand-written C: epoll, edge-triggered, one thread (the kernel's ceiling)";

/* --- errors ---------------------------------------------------------------- */

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: tcp_echo: ", program);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

/* A failed system call: `what` and strerror(errno). */
static void fail_errno(const char *what) { fail("%s: %s", what, strerror(errno)); }

/* --- connections ------------------------------------------------------------ */

struct conn {
  int fd;
  int is_client;
  /* Client: the current round trip. */
  long trips_left;
  size_t sent; /* bytes of the message sent so far */
  size_t got;  /* bytes of the reply received so far */
  unsigned char reply[message_size];
  /* Server: what a short send left over, sent on EPOLLOUT (NULL: nothing). */
  unsigned char *pending;
  size_t pending_len, pending_off;
};

struct run {
  int epfd;
  int listener;
  struct conn conns[2 * connections]; /* clients first, then the server sides */
  long clients_left;                  /* clients with round trips to do */
  long mismatches;
  unsigned char message[message_size];
  unsigned char server_buf[server_read_size];
};

static void set_nodelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) fail_errno("setsockopt(TCP_NODELAY)");
}

/* Waits until `fd` is ready for `events` (poll), during set-up only. */
static void wait_ready(int fd, short events, const char *what) {
  struct pollfd p = {.fd = fd, .events = events, .revents = 0};
  for (;;) {
    const int r = poll(&p, 1, setup_timeout_ms);
    if (r > 0) return;
    if (r == 0) fail("%s: nothing after %d ms", what, setup_timeout_ms);
    if (errno != EINTR) fail_errno("poll");
  }
}

/* The listener, the 50 connected pairs and the epoll instance. */
static void set_up(struct run *r) {
  r->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r->listener < 0) fail_errno("socket");
  const int one = 1;
  if (setsockopt(r->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) fail_errno("setsockopt(SO_REUSEADDR)");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(r->listener, (const struct sockaddr *)&addr, sizeof addr) < 0) fail_errno("bind 127.0.0.1:0");
  if (listen(r->listener, backlog) < 0) fail_errno("listen");
  socklen_t len = sizeof addr;
  if (getsockname(r->listener, (struct sockaddr *)&addr, &len) < 0) fail_errno("getsockname");

  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (r->epfd < 0) fail_errno("epoll_create1");

  for (int i = 0; i < connections; ++i) {
    /* The client: a non-blocking connect, completed or waited for. */
    const int cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cfd < 0) fail_errno("socket");
    if (connect(cfd, (const struct sockaddr *)&addr, sizeof addr) < 0) {
      if (errno != EINPROGRESS) fail_errno("connect");
      wait_ready(cfd, POLLOUT, "connect");
      int err = 0;
      socklen_t errlen = sizeof err;
      if (getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0) fail_errno("getsockopt(SO_ERROR)");
      if (err != 0) fail("connect: %s", strerror(err));
    }
    set_nodelay(cfd);
    /* Its server side. */
    int sfd;
    for (;;) {
      sfd = accept4(r->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (sfd >= 0) break;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_ready(r->listener, POLLIN, "accept");
      } else if (errno != EINTR && errno != ECONNABORTED) {
        fail_errno("accept4");
      }
    }
    set_nodelay(sfd);

    struct conn *c = &r->conns[i];
    struct conn *s = &r->conns[connections + i];
    memset(c, 0, sizeof *c);
    memset(s, 0, sizeof *s);
    c->fd = cfd;
    c->is_client = 1;
    s->fd = sfd;
    s->is_client = 0;
  }
  for (int i = 0; i < 2 * connections; ++i) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &r->conns[i];
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->conns[i].fd, &ev) < 0) fail_errno("epoll_ctl(EPOLL_CTL_ADD)");
  }
}

static void tear_down(struct run *r) {
  for (int i = 0; i < 2 * connections; ++i) {
    free(r->conns[i].pending);
    r->conns[i].pending = NULL;
    if (close(r->conns[i].fd) < 0) fail_errno("close");
  }
  if (close(r->epfd) < 0) fail_errno("close(epoll)");
  if (close(r->listener) < 0) fail_errno("close(listener)");
}

/* The pending error of a socket that epoll reported with EPOLLERR. */
static void fail_socket_error(const struct conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) fail_errno("getsockopt(SO_ERROR)");
  fail("%s socket: %s", c->is_client ? "client" : "server", err ? strerror(err) : "error reported by epoll");
}

/* --- the server side: echo --------------------------------------------------- */

/* Sends data[0..len) directly; what the socket does not take is copied to
 * c->pending, for EPOLLOUT. Nothing may be pending already. */
static void server_send(struct conn *c, const unsigned char *data, size_t len) {
  size_t off = 0;
  while (off < len) {
    const ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += (size_t)n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c->pending_len = len - off;
      c->pending_off = 0;
      c->pending = malloc(c->pending_len);
      if (!c->pending) fail("out of memory (%zu bytes to buffer)", c->pending_len);
      memcpy(c->pending, data + off, c->pending_len);
      return;
    } else if (errno != EINTR) {
      fail_errno("server send");
    }
  }
}

/* Sends what is pending; returns 1 once nothing is. */
static int server_flush(struct conn *c) {
  while (c->pending_off < c->pending_len) {
    const ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
    if (n >= 0) {
      c->pending_off += (size_t)n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return 0;
    } else if (errno != EINTR) {
      fail_errno("server send");
    }
  }
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_off = 0;
  return 1;
}

/* Echoes until a short read or EAGAIN, or until a send leaves data pending
 * (then reading resumes once it is sent: edge-triggered, nothing will tell). */
static void server_read(struct run *r, struct conn *c) {
  for (;;) {
    const ssize_t n = recv(c->fd, r->server_buf, sizeof r->server_buf, 0);
    if (n > 0) {
      server_send(c, r->server_buf, (size_t)n);
      if (c->pending || (size_t)n < sizeof r->server_buf) return;
    } else if (n == 0) {
      fail("a client closed its connection before the end");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else if (errno != EINTR) {
      fail_errno("server recv");
    }
  }
}

static void server_event(struct run *r, struct conn *c, unsigned events) {
  if (events & EPOLLERR) fail_socket_error(c);
  if (c->pending) {
    if (!server_flush(c)) return;
    server_read(r, c); /* data may have come while this side was not reading */
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) server_read(r, c);
}

/* --- the client side: round trips ------------------------------------------- */

/* Sends the rest of the current message (what the socket does not take now
 * goes on EPOLLOUT). */
static void client_send(struct run *r, struct conn *c) {
  while (c->sent < message_size) {
    const ssize_t n = send(c->fd, r->message + c->sent, message_size - c->sent, MSG_NOSIGNAL);
    if (n >= 0) {
      c->sent += (size_t)n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else if (errno != EINTR) {
      fail_errno("client send");
    }
  }
}

/* Reads the reply until a short read or EAGAIN; a complete reply is checked
 * and the next round trip started (its reply comes with a new EPOLLIN). The
 * server sends nothing it was not sent, so nothing is left to read after a
 * complete reply. */
static void client_read(struct run *r, struct conn *c) {
  while (c->trips_left > 0) {
    const ssize_t n = recv(c->fd, c->reply + c->got, message_size - c->got, 0);
    if (n > 0) {
      c->got += (size_t)n;
      if (c->got < message_size) return; /* a short read: nothing more for now */
      if (c->sent < message_size) fail("a reply came before its message was sent");
      r->mismatches += memcmp(c->reply, r->message, message_size) != 0;
      c->sent = c->got = 0;
      if (--c->trips_left == 0) {
        --r->clients_left;
        return;
      }
      client_send(r, c);
      return;
    } else if (n == 0) {
      fail("the server side closed a connection before the end");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else if (errno != EINTR) {
      fail_errno("client recv");
    }
  }
}

static void client_event(struct run *r, struct conn *c, unsigned events) {
  if (events & EPOLLERR) fail_socket_error(c);
  if (c->trips_left == 0) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
      /* Done: anything readable now is unexpected data or an early close. */
      unsigned char extra;
      const ssize_t n = recv(c->fd, &extra, 1, MSG_PEEK);
      if (n > 0) fail("a client got more bytes than it sent");
      if (n == 0) fail("the server side closed a connection before the end");
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail_errno("client recv");
    }
    return;
  }
  if (c->sent < message_size) client_send(r, c);
  /* Read even if the message is not all sent: what was sent may be echoed. */
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) client_read(r, c);
}

/* --- one run ---------------------------------------------------------------- */

static double now_seconds(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) fail_errno("clock_gettime");
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One repetition on fresh sockets; returns the seconds of the round trips. */
static double tcp_echo(struct run *r, long n) {
  set_up(r);
  const long trips = n / connections;
  memset(r->message, 'x', sizeof r->message);
  r->mismatches = 0;
  r->clients_left = connections;
  for (int i = 0; i < connections; ++i) r->conns[i].trips_left = trips;

  const double t0 = now_seconds();
  for (int i = 0; i < connections; ++i) client_send(r, &r->conns[i]);
  struct epoll_event events[max_events];
  while (r->clients_left > 0) {
    const int ready = epoll_wait(r->epfd, events, max_events, idle_timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail_errno("epoll_wait");
    }
    if (ready == 0) fail("no event for %d ms, %ld clients not done", idle_timeout_ms, r->clients_left);
    for (int i = 0; i < ready; ++i) {
      struct conn *c = events[i].data.ptr;
      if (c->is_client) {
        client_event(r, c, events[i].events);
      } else {
        server_event(r, c, events[i].events);
      }
    }
  }
  const double t1 = now_seconds();

  if (r->mismatches != 0) fail("%ld replies differ from their message", r->mismatches);
  tear_down(r);
  return t1 - t0;
}

/* --- command line ------------------------------------------------------------ */

static long peak_rss_kb(void) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) < 0) fail_errno("getrusage");
  return u.ru_maxrss;
}

static void usage(int code) {
  FILE *out = code == 0 ? stdout : stderr;
  fprintf(out,
          "usage: %s [--only NAME] [--n N] [--scale F] [--list]\n"
          "  --only NAME  run one workload: tcp_echo (any other: print nothing, exit 0)\n"
          "  --n N        N (round trips; rounded to a multiple of %d)\n"
          "  --scale F    multiply the default N (%ld) by F\n"
          "  --list       print the workload and its default N\n"
          "Prints aio_bench's tcp_echo JSON line, for plain C with epoll; see bench/README.md.\n",
          program, connections, default_n);
  exit(code);
}

int main(int argc, char **argv) {
  int other_workload = 0;
  long n_arg = 0; /* 0: not given */
  double scale = 1.0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    const char *value = NULL;
    size_t name_len = strlen(arg);
    const char *eq = strchr(arg, '=');
    if (strncmp(arg, "--", 2) == 0 && eq) {
      name_len = (size_t)(eq - arg);
      value = eq + 1;
    }
#define IS(flag) (name_len == strlen(flag) && strncmp(arg, flag, name_len) == 0)
    if (IS("--help") || IS("-h")) usage(0);
    if (IS("--list")) {
      printf("tcp_echo %ld\n", default_n);
      return 0;
    }
    if (!IS("--only") && !IS("--n") && !IS("--scale")) {
      fprintf(stderr, "%s: unknown argument '%s'\n", program, arg);
      usage(2);
    }
    if (!value) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: %.*s needs a value\n", program, (int)name_len, arg);
        usage(2);
      }
      value = argv[++i];
    }
    char *end = NULL;
    if (IS("--only")) {
      other_workload = strcmp(value, "tcp_echo") != 0;
    } else if (IS("--n")) {
      errno = 0;
      n_arg = strtol(value, &end, 10);
      if (end == value || *end != '\0' || errno != 0 || n_arg <= 0) {
        fprintf(stderr, "%s: --n needs a positive integer, not '%s'\n", program, value);
        return 2;
      }
    } else {
      errno = 0;
      scale = strtod(value, &end);
      if (end == value || *end != '\0' || errno != 0 || !(scale > 0) || scale * (double)default_n > 1e15) {
        fprintf(stderr, "%s: --scale needs a positive number (at most 1e10), not '%s'\n", program, value);
        return 2;
      }
    }
#undef IS
  }
  if (other_workload) return 0; /* not ours: the runner passes everyone the same flags */

  /* As aio_bench: N (or the default times --scale, rounded, at least 1),
   * rounded down to a multiple of the connections, at least one multiple. */
  long n = n_arg > 0 ? n_arg : (long)(scale * (double)default_n + 0.5);
  if (n < 1) n = 1;
  n -= n % connections;
  if (n < connections) n = connections;

  static struct run r; /* 64 KiB buffer: not on the stack */
  (void)tcp_echo(&r, n); /* warm-up */
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const double s = tcp_echo(&r, n);
    if (rep == 0 || s < best) best = s;
  }
  printf("{\"workload\":\"tcp_echo\",\"n\":%ld,\"seconds\":%.6f,\"ns_per_op\":%.2f,\"peak_rss_kb\":%ld"
         ",\"ops_per_s\":%.0f,\"note\":\"%s\"}\n",
         n, best, best * 1e9 / (double)n, peak_rss_kb(), (double)n / best, note);
  if (fflush(stdout) != 0) fail_errno("writing the result");
  return 0;
}
