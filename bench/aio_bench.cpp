// aio_bench — the workloads of shared/bench/WORKLOADS.md, for aio.
//
// Prints one JSON line per workload:
//   {"workload":"spawn_gather","n":200000,"seconds":...,"ns_per_op":...,"peak_rss_kb":...}
// Flags: --only NAME, --n N, --scale F, --list. See bench/README.md.
//
// Protocol (the same in bench/python/bench_asyncio.py):
// - Each repetition runs the workload coroutine on a fresh loop (aio::run); the
//   coroutine times only its own region with std::chrono::steady_clock, so
//   starting and closing the loop are not measured.
// - One warm-up repetition, then 3 measured ones; the best (lowest) is printed.
// - When several workloads are selected, each runs in a child process of its
//   own (this program re-executes itself with --only NAME), so that each line's
//   peak_rss_kb (getrusage's ru_maxrss, a process-wide peak) belongs to that
//   workload alone, and so that memory_tasks starts from a fresh process whose
//   frame pool is empty.
// - memory_tasks takes bytes_per_task from its first repetition (the warm-up),
//   the only one that starts without recycled frames and below the process's
//   peak; its time is still the best of the 3 measured repetitions.
// - tcp_echo also prints ops_per_s (round trips per second); its N is rounded
//   to a multiple of its 50 connections (at least 50), and the line prints the
//   N actually used.
//
// Adding a workload: write `aio::task<sample> NAME(long n)` below and add a row
// to `workloads`.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/queues.hpp>
#include <aio/streams.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

/// What one repetition of a workload measured.
struct sample {
  double seconds = 0;                    // wall time of the measured region
  std::optional<double> bytes_per_task;  // memory_tasks only
};

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
}

/// Resident set size now, in KiB (/proc/self/statm, second field, in pages).
long current_rss_kb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long size = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/// The process's peak resident set size so far, in KiB.
long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// --- spawn_gather --------------------------------------------------------
// N tasks of a trivial coroutine, made with create_task (scheduled at once),
// then awaited with one gather over the vector of futures.

aio::task<long> identity(long i) { co_return i; }

aio::task<sample> spawn_gather(long n) {
  const auto t0 = steady::now();
  std::vector<aio::future<long>> futures;
  futures.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) futures.push_back(aio::create_task(identity(i)));
  std::vector<long> results = co_await aio::gather(std::move(futures));
  const auto t1 = steady::now();

  long sum = 0;
  for (long r : results) sum += r;
  check(static_cast<long>(results.size()) == n && sum == n * (n - 1) / 2, "spawn_gather: sum of results");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- spawn_gather_debug (not in WORKLOADS.md) ----------------------------
// spawn_gather with the loop in debug mode: what debug mode costs when on.
// Off, it is one predictable branch per loop iteration (not per step), so
// spawn_gather itself is the "off" row.

aio::task<sample> spawn_gather_debug(long n) {
  aio::event_loop& loop = aio::get_running_loop();
  loop.set_debug(true);
  struct debug_off_on_exit {
    aio::event_loop& loop;
    ~debug_off_on_exit() { loop.set_debug(false); }
  } restore{loop};
  co_return co_await spawn_gather(n);
}

// --- await_chain ---------------------------------------------------------
// One coroutine awaits a trivial child N times in sequence: no scheduling,
// just the cost of creating, running and destroying a child coroutine.

aio::task<long> child(long i) { co_return i; }

aio::task<sample> await_chain(long n) {
  const auto t0 = steady::now();
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await child(i);
  const auto t1 = steady::now();

  check(sum == n * (n - 1) / 2, "await_chain: sum");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- sleep_timers --------------------------------------------------------
// N tasks, task i sleeps (i % 1000) * 10 us on the real (steady) clock; the
// longest sleep is ~10 ms, which ns_per_op subtracts (see `fixed_seconds`).

aio::task<void> timed_sleeper(long i) { co_await aio::sleep(std::chrono::microseconds((i % 1000) * 10)); }

aio::task<sample> sleep_timers(long n) {
  const auto t0 = steady::now();
  std::vector<aio::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) futures.push_back(aio::create_task(timed_sleeper(i)));
  auto done = co_await aio::gather(std::move(futures));
  const auto t1 = steady::now();

  check(static_cast<long>(done.size()) == n, "sleep_timers: every task finished");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- queue_pingpong ------------------------------------------------------
// One producer task puts 0..N-1 into a bounded queue (maxsize 1024), one
// consumer task gets them, checking the order; both gathered. The producer
// runs ahead until the queue is full, then the two alternate by hand-offs.

aio::task<void> queue_producer(aio::queue<long>* q, long n) {
  for (long i = 0; i < n; ++i) co_await q->put(i);
}

aio::task<long> queue_consumer(aio::queue<long>* q, long n) {
  long sum = 0;
  long out_of_order = 0;
  for (long i = 0; i < n; ++i) {
    const long v = co_await q->get();
    out_of_order += v != i;
    sum += v;
  }
  co_return out_of_order == 0 ? sum : -1;
}

aio::task<sample> queue_pingpong(long n) {
  aio::queue<long> q{1024};
  const auto t0 = steady::now();
  aio::future<void> producing = aio::create_task(queue_producer(&q, n));
  aio::future<long> consuming = aio::create_task(queue_consumer(&q, n));
  auto both = aio::gather(producing, consuming);
  const auto results = co_await std::move(both);
  const auto t1 = steady::now();

  check(std::get<1>(results) == n * (n - 1) / 2, "queue_pingpong: order and sum of the items");
  check(q.empty(), "queue_pingpong: the queue is empty");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- semaphore -----------------------------------------------------------
// N tasks each take one of 16 permits, yield to the loop once while holding
// it (sleep(0)), and give it back (the permit's destructor); all gathered.

aio::task<void> permit_holder(aio::semaphore* sem) {
  auto permit = co_await sem->acquire();
  co_await aio::sleep(std::chrono::seconds(0));
}

aio::task<sample> semaphore(long n) {
  aio::semaphore sem{16};
  const auto t0 = steady::now();
  std::vector<aio::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) futures.push_back(aio::create_task(permit_holder(&sem)));
  auto done = co_await aio::gather(std::move(futures));
  const auto t1 = steady::now();

  check(static_cast<long>(done.size()) == n && sem.value() == 16, "semaphore: every task ran, every permit is back");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- tcp_echo ------------------------------------------------------------
// An echo server (start_server on 127.0.0.1, port 0) and 50 client
// connections on the same loop. The connections are opened first (not
// measured); then each client does N/50 sequential round trips: write 64
// bytes, read exactly 64 back, compare. The server's handler echoes whatever
// read() returns. drain() is awaited only when write() could not send
// everything at once (it never blocks on 64 bytes; asyncio twin: the same).

constexpr long echo_connections = 50;
constexpr std::size_t echo_message_size = 64;

aio::task<void> echo_handler(aio::stream_reader reader, aio::stream_writer writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;  // the client closed its side
    writer.write(data);
    if (writer.buffer_size() > 0) co_await writer.drain();
  }
  writer.close();
}

aio::task<long> echo_client(aio::stream_reader reader, aio::stream_writer writer, long trips) {
  const std::string message(echo_message_size, 'x');
  long mismatches = 0;
  for (long i = 0; i < trips; ++i) {
    writer.write(message);
    if (writer.buffer_size() > 0) co_await writer.drain();
    const std::string reply = co_await reader.readexactly(echo_message_size);
    mismatches += reply != message;
  }
  co_return mismatches;
}

using connection = std::pair<aio::stream_reader, aio::stream_writer>;

aio::task<sample> tcp_echo(long n) {
  auto starting = aio::start_server(&echo_handler, "127.0.0.1", 0);
  aio::server server = co_await std::move(starting);
  std::vector<connection> connections;
  for (long c = 0; c < echo_connections; ++c) {
    auto connecting = aio::open_connection("127.0.0.1", server.port());
    connections.push_back(co_await std::move(connecting));
  }
  const long trips = n / echo_connections;

  const auto t0 = steady::now();
  std::vector<aio::future<long>> clients;
  clients.reserve(connections.size());
  for (auto& [reader, writer] : connections) clients.push_back(aio::create_task(echo_client(reader, writer, trips)));
  auto mismatches = co_await aio::gather(std::move(clients));
  const auto t1 = steady::now();

  long bad = 0;
  for (long m : mismatches) bad += m;
  check(bad == 0, "tcp_echo: every reply equals its message");
  for (auto& [reader, writer] : connections) {
    writer.close();
    co_await writer.wait_closed();
  }
  connections.clear();
  server.close();
  co_await server.wait_closed();
  co_return sample{seconds_between(t0, t1), {}};
}

// --- cancel --------------------------------------------------------------
// N tasks sleep 10 s; once all have started, each is cancelled, and all are
// gathered settled (asyncio's return_exceptions=True).

aio::task<void> long_sleeper(std::chrono::seconds d) { co_await aio::sleep(d); }

aio::task<sample> cancel(long n) {
  const auto t0 = steady::now();
  std::vector<aio::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) futures.push_back(aio::create_task(long_sleeper(std::chrono::seconds(10))));
  // The tasks start at the next iteration, before we resume: after this every
  // one of them is asleep (the second yield is a margin).
  co_await aio::yield();
  co_await aio::yield();
  for (auto& f : futures) f.cancel();
  auto outcomes = co_await aio::gather_settled(std::move(futures));
  const auto t1 = steady::now();

  const auto cancelled = std::count_if(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.cancelled(); });
  check(static_cast<long>(outcomes.size()) == n && cancelled == n, "cancel: every task was cancelled");
  co_return sample{seconds_between(t0, t1), {}};
}

// --- memory_tasks --------------------------------------------------------
// N tasks asleep at once (1 s), cancelled once all have started. The peak RSS
// is reached while they all sleep. Waiting for them to finish is done by
// yielding rather than with gather_settled, so that the gather's own
// bookkeeping does not count against the tasks (the Python twin does the same).

aio::task<sample> memory_tasks(long n) {
  const long rss_before = current_rss_kb();
  const auto t0 = steady::now();
  std::vector<aio::future<void>> futures;
  futures.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) futures.push_back(aio::create_task(long_sleeper(std::chrono::seconds(1))));
  co_await aio::yield();
  co_await aio::yield();
  for (auto& f : futures) f.cancel();
  long cancelled = 0;
  for (auto& f : futures) {
    while (!f.done()) co_await aio::yield();
    if (f.cancelled()) ++cancelled;
  }
  const auto t1 = steady::now();
  const long peak = peak_rss_kb();

  check(cancelled == n, "memory_tasks: every task was cancelled");
  co_return sample{seconds_between(t0, t1), static_cast<double>(peak - rss_before) * 1024.0 / static_cast<double>(n)};
}

// --- the table of workloads ----------------------------------------------

struct workload {
  const char* name;
  long default_n;
  aio::task<sample> (*body)(long n);
  /// Seconds of the region that are waiting by definition, taken off before
  /// ns_per_op is computed (sleep_timers: the 10 ms of the longest sleep).
  double fixed_seconds = 0;
  /// The first repetition reports memory (see the protocol at the top).
  bool measures_memory = false;
  /// N is rounded to a multiple of this (at least one multiple): tcp_echo's connections.
  long n_multiple = 1;
  /// The line also gives ops_per_s (n / seconds).
  bool reports_ops_per_s = false;
};

const workload workloads[] = {
    {"spawn_gather", 200'000, &spawn_gather},
    {"spawn_gather_debug", 200'000, &spawn_gather_debug},
    {"await_chain", 1'000'000, &await_chain},
    {"sleep_timers", 100'000, &sleep_timers, 0.01},
    {"queue_pingpong", 1'000'000, &queue_pingpong},
    {"semaphore", 200'000, &semaphore},
    {"cancel", 100'000, &cancel},
    {"memory_tasks", 1'000'000, &memory_tasks, 0, true},
    {"tcp_echo", 100'000, &tcp_echo, 0, false, echo_connections, true},
};

const workload* find_workload(std::string_view name) {
  for (const auto& w : workloads)
    if (name == w.name) return &w;
  return nullptr;
}

struct options {
  const workload* only = nullptr;
  std::optional<long> n;
  double scale = 1.0;
  std::string n_arg, scale_arg;  // as given, to forward to child processes
};

long n_for(const workload& w, const options& o) {
  const long n = o.n ? *o.n : std::max(1L, std::lround(static_cast<double>(w.default_n) * o.scale));
  return std::max(w.n_multiple, n - n % w.n_multiple);
}

void print_result(const workload& w, long n, const sample& best, const std::optional<double>& bytes_per_task) {
  const double ns_per_op = (best.seconds - w.fixed_seconds) * 1e9 / static_cast<double>(n);
  std::printf(R"({"workload":"%s","n":%ld,"seconds":%.6f,"ns_per_op":%.2f,"peak_rss_kb":%ld)", w.name, n,
              best.seconds, ns_per_op, peak_rss_kb());
  if (w.reports_ops_per_s) std::printf(R"(,"ops_per_s":%.0f)", static_cast<double>(n) / best.seconds);
  if (bytes_per_task) std::printf(R"(,"bytes_per_task":%.1f)", *bytes_per_task);
  std::printf("}\n");
  std::fflush(stdout);
}

/// One warm-up and three measured repetitions, each on a fresh loop.
void run_in_process(const workload& w, long n) {
  const sample first = aio::run(w.body(n));
  std::optional<sample> best;
  for (int rep = 0; rep < 3; ++rep) {
    const sample s = aio::run(w.body(n));
    if (!best || s.seconds < best->seconds) best = s;
  }
  print_result(w, n, *best, w.measures_memory ? first.bytes_per_task : std::nullopt);
}

/// Runs `w` in a child process (this program with --only), its output going
/// straight to ours. Returns false if it failed.
bool run_in_child(const workload& w, const options& o) {
  std::vector<std::string> args{"aio_bench", "--only", w.name};
  if (o.n) args.insert(args.end(), {"--n", o.n_arg});
  if (!o.scale_arg.empty()) args.insert(args.end(), {"--scale", o.scale_arg});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("aio_bench: fork");
    return false;
  }
  if (pid == 0) {
    execv("/proc/self/exe", argv.data());
    std::perror("aio_bench: execv /proc/self/exe");
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) {
    std::perror("aio_bench: waitpid");
    return false;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  std::fprintf(stderr, "aio_bench: workload %s failed (status %d)\n", w.name, status);
  return false;
}

[[noreturn]] void usage(int code) {
  std::FILE* out = code == 0 ? stdout : stderr;
  std::fprintf(out,
               "usage: aio_bench [--only NAME] [--n N] [--scale F] [--list]\n"
               "  --only NAME  run one workload (in this process)\n"
               "  --n N        N for the selected workloads\n"
               "  --scale F    multiply every default N by F\n"
               "  --list       print the workloads and their default N\n"
               "Prints one JSON line per workload; see bench/README.md.\n");
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_inline_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_inline_value) return value;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "aio_bench: %s needs a value\n", arg.c_str());
        usage(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(0);
    } else if (arg == "--list") {
      for (const auto& w : workloads) std::printf("%s %ld\n", w.name, w.default_n);
      std::exit(0);
    } else if (arg == "--only") {
      const std::string name = next();
      o.only = find_workload(name);
      if (!o.only) {
        std::fprintf(stderr, "aio_bench: unknown workload '%s'; known:", name.c_str());
        for (const auto& w : workloads) std::fprintf(stderr, " %s", w.name);
        std::fprintf(stderr, "\n");
        std::exit(2);
      }
    } else if (arg == "--n") {
      o.n_arg = next();
      char* end = nullptr;
      const long n = std::strtol(o.n_arg.c_str(), &end, 10);
      if (end == o.n_arg.c_str() || *end != '\0' || n <= 0) {
        std::fprintf(stderr, "aio_bench: --n needs a positive integer, not '%s'\n", o.n_arg.c_str());
        std::exit(2);
      }
      o.n = n;
    } else if (arg == "--scale") {
      o.scale_arg = next();
      char* end = nullptr;
      o.scale = std::strtod(o.scale_arg.c_str(), &end);
      if (end == o.scale_arg.c_str() || *end != '\0' || !(o.scale > 0)) {
        std::fprintf(stderr, "aio_bench: --scale needs a positive number, not '%s'\n", o.scale_arg.c_str());
        std::exit(2);
      }
    } else {
      std::fprintf(stderr, "aio_bench: unknown argument '%s'\n", argv[i]);
      usage(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  if (o.only) {
    try {
      run_in_process(*o.only, n_for(*o.only, o));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aio_bench: %s: %s\n", o.only->name, e.what());
      return 1;
    } catch (const aio::cancelled_error& e) {
      std::fprintf(stderr, "aio_bench: %s: %s\n", o.only->name, e.what());
      return 1;
    }
    return 0;
  }
  bool ok = true;
  for (const auto& w : workloads) ok = run_in_child(w, o) && ok;
  return ok ? 0 : 1;
}
