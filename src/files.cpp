// aio::open_file and aio::async_file: files on the thread pool (aiofiles).
//
// Three pieces, by thread:
//  - file_handle (any thread): the std::FILE*. Jobs use it on pool threads,
//    one at a time; its destructor closes the stream, so whoever lets go of it
//    last — the close job, the loop, a job — nothing leaks a descriptor.
//  - file_channel (loop thread only): the queue that serializes operations
//    and the pushback buffer that keeps what cancelled reads read.
//  - file_job: one job on the pool; its completion runs on the loop thread.
//
// Why std::FILE* and not a raw descriptor with a buffer of our own: Python's
// file objects are buffered, and so are aiofiles' (it wraps them); std::FILE*
// gives the same thing — many small writes become few write(2)s, readline
// costs no system call per byte, getline handles lines of any length — with
// no second buffer to keep coherent across threads. The C rules for update
// streams (a positioning call between reading and writing) are kept in
// file_handle; glibc's sticky end-of-file is cleared before each read, since
// Python reads again after EOF (a growing file, a FIFO's next writer).
//
// Why a queue of pending operations rather than "each operation awaits a
// shield of the previous one's future": an operation must keep its place even
// when its await is cancelled before its turn (a cancelled write still
// happens, in order). An awaiter that gives up before submitting its job would
// drop the write, and making each operation a task of its own does not help,
// since aio::run's shutdown cancels tasks that never started and those never
// run. So each operation is a start function queued on the file; a job's
// completion (or the reader that takes its data) starts the next one. Each
// operation's result is a plain future the caller awaits through aio::shield,
// so a cancelled await never cancels the job.
//
// Why our own run_job rather than loop.run_in_executor: its completion is a
// lambda holding a raw counted reference to the future's state; if the loop
// closes while a job is in flight, the lambda is destroyed unrun and the state
// leaks with everything waiting on it (here: the file). run_job's completion
// holds only RAII handles, so a loop that closes early still frees the file
// and closes the descriptor. open_file uses to_thread: a result dropped there
// is a shared_ptr<file_handle>, which closes itself.
#include <aio/files.hpp>

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace aio {
namespace detail {

namespace {
constexpr std::size_t chunk_size = 64 * 1024;
}  // namespace

// --- the stream (pool threads, one job at a time) ----------------------------

struct file_handle {
  enum class direction : unsigned char { none, read, write };

  std::FILE* fp = nullptr;
  std::string name;  // for messages; immutable
  direction last = direction::none;

  file_handle() = default;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  ~file_handle() {
    if (fp != nullptr) std::fclose(fp);
  }

  [[noreturn]] void fail(int err, const char* what) const {
    throw std::system_error(err != 0 ? err : EIO, std::generic_category(),
                            std::string("aio: cannot ") + what + " '" + name + "'");
  }

  void before_read() {
    // C: output must not be followed by input without a flush or a seek.
    if (last == direction::write && std::fflush(fp) != 0) fail(errno, "read");
    last = direction::read;
    std::clearerr(fp);
  }
  // The readers append to `out`, so that what was read before an error is
  // kept (it goes back to the pushback buffer) rather than lost.
  void read_n(std::string& out, std::size_t n) {
    before_read();
    while (n > 0) {
      const std::size_t want = std::min(n, chunk_size);
      const std::size_t old = out.size();
      out.resize(old + want);
      const std::size_t got = std::fread(out.data() + old, 1, want, fp);
      const int err = errno;
      out.resize(old + got);
      n -= got;
      if (got < want) {
        if (std::ferror(fp)) fail(err, "read");
        return;  // end of file
      }
    }
  }
  void read_all(std::string& out) {
    before_read();
    for (;;) {
      const std::size_t old = out.size();
      out.resize(old + chunk_size);
      const std::size_t got = std::fread(out.data() + old, 1, chunk_size, fp);
      const int err = errno;
      out.resize(old + got);
      if (got < chunk_size) {
        if (std::ferror(fp)) fail(err, "read");
        return;
      }
    }
  }
  void read_line(std::string& out) {
    before_read();
    char* line = nullptr;
    std::size_t capacity = 0;
    const ssize_t got = ::getline(&line, &capacity, fp);
    const int err = errno;
    if (got > 0) out.append(line, static_cast<std::size_t>(got));
    std::free(line);  // NOLINT(cppcoreguidelines-no-malloc): getline's buffer
    if (got < 0 && std::ferror(fp)) fail(err, "read");
  }
  /// `held`: bytes the loop holds back from cancelled reads; the logical
  /// position is that far behind the stream's.
  std::size_t write(const std::string& data, std::size_t held) {
    if (held > 0 || last == direction::read) {
      // C: input must not be followed by output without a positioning call.
      // On a pipe that seek fails harmlessly, unless there is data to give back.
      if (::fseeko(fp, -static_cast<off_t>(held), SEEK_CUR) != 0 && held > 0) fail(errno, "write");
    }
    last = direction::write;
    if (data.empty()) return 0;
    const std::size_t put = std::fwrite(data.data(), 1, data.size(), fp);
    if (put < data.size()) fail(errno, "write");
    return put;
  }
  void flush() {
    // Only pending output: glibc's fflush on an input stream drops its
    // read-ahead (and fails on a pipe), where Python's flush does nothing.
    if (last == direction::write && std::fflush(fp) != 0) fail(errno, "flush");
  }
  std::int64_t seek(std::int64_t offset, int whence) {
    if (::fseeko(fp, static_cast<off_t>(offset), whence) != 0) fail(errno, "seek in");
    last = direction::none;  // a seek is the positioning call C asks for
    return tell();
  }
  std::int64_t tell() {
    const off_t at = ::ftello(fp);
    if (at < 0) fail(errno, "tell the position in");
    return static_cast<std::int64_t>(at);
  }
  void close() {
    std::FILE* f = std::exchange(fp, nullptr);
    if (f != nullptr && std::fclose(f) != 0) fail(errno, "close");  // the descriptor is closed anyway
  }
};

// --- jobs on the pool --------------------------------------------------------

struct job_result {
  std::string data;         // reads: all that was read, held-back data included (kept on error too)
  std::int64_t number = 0;  // write: bytes; seek / tell: a position
  std::exception_ptr error;
};

struct file_job {
  std::function<void(job_result&)> work;  // pool thread; captures only what any thread may destroy
  std::function<void(job_result&)> done;  // loop thread; may hold futures and the channel
  job_result result;
};

/// Runs job->work on the loop's default executor, then job->done on the loop
/// thread. The last reference to the job is always dropped on the loop thread
/// (the pool's closure hands its own on), since `done` is loop-affine.
void run_job(event_loop& loop, std::shared_ptr<file_job> job) noexcept {
  std::shared_ptr<file_job> keep = job;
  loop.add_external_work();  // virtual time waits for the job; no deadlock is reported meanwhile
  event_loop* l = &loop;
  try {
    loop.default_executor().submit([l, job = std::move(job)]() mutable {
      try {
        job->work(job->result);
      } catch (...) {
        job->result.error = std::current_exception();
      }
      l->call_soon_threadsafe([l, job = std::move(job)] {
        l->remove_external_work();
        job->done(job->result);
      });
    });
  } catch (...) {  // the pool was shut down (the loop is closing)
    loop.remove_external_work();
    keep->result.error = std::current_exception();
    keep->done(keep->result);
  }
}

// --- the queue of operations (loop thread) ------------------------------------

struct file_channel : std::enable_shared_from_this<file_channel> {
  std::shared_ptr<file_handle> handle;
  std::string name;
  std::string mode;
  event_loop* loop = nullptr;

  /// Data read by reads whose await was cancelled: served first by the next
  /// read. It sits between the stream's position and the logical position.
  std::string pushback;
  /// Operations whose turn has not come, in the order their tasks started.
  /// (They capture `this` raw, never a shared_ptr: the channel owns them.)
  std::deque<std::function<void()>> waiting;
  bool busy = false;      // an operation has the turn
  bool draining = false;  // run_next is on the stack
  bool closed = false;    // close() started, or the async_file was destroyed

  void check_open() const {
    if (closed) throw value_error("aio: I/O operation on closed file '" + name + "'");
    if (running_loop() != loop)
      throw invalid_state_error("aio: file '" + name +
                                "' used outside the event loop that opened it: a file is loop-affine");
  }

  /// Queues `start`; it runs when every earlier operation has finished. It
  /// must catch its own errors and end with release_turn(), at once or later.
  void enqueue(std::function<void()> start) {
    waiting.push_back(std::move(start));
    if (!busy && !draining) run_next();
  }
  void release_turn() noexcept {
    busy = false;
    if (!draining) run_next();
  }

 private:
  // A loop, not recursion: operations that finish at once (reads served from
  // the pushback buffer, reads cancelled before their turn) would otherwise
  // nest one frame per operation.
  void run_next() noexcept {
    draining = true;
    while (!busy && !waiting.empty()) {
      std::function<void()> start = std::move(waiting.front());
      waiting.pop_front();
      busy = true;
      start();
    }
    draining = false;
  }
};

namespace {

[[noreturn]] void throw_closed_handle() {
  throw value_error(
      "aio: I/O operation on a closed aio::async_file (moved-from or default-constructed)");
}

std::shared_ptr<file_channel> open_channel(std::shared_ptr<file_channel> ch) {
  if (!ch) throw_closed_handle();
  ch->check_open();
  return ch;
}

// --- reads ---------------------------------------------------------------------

enum class read_kind : unsigned char { count, all, line };

/// A read's result. Move-only, so that awaiting the future hands the bytes
/// over instead of copying them (a future gives each awaiter a copy otherwise).
struct read_data {
  std::string bytes;
  explicit read_data(std::string b) noexcept : bytes(std::move(b)) {}
  read_data(read_data&&) noexcept = default;
  read_data& operator=(read_data&&) noexcept = default;
  read_data(const read_data&) = delete;
  read_data& operator=(const read_data&) = delete;
  ~read_data() = default;
};

/// A read's turn: serve it from the pushback buffer if that is enough, else
/// read the rest on the pool. The turn passes on when the reader has taken the
/// data (read_op), or, if it gave up meanwhile, when the data is kept.
void start_read(file_channel& self, future<read_data> result, read_kind kind, std::size_t n) noexcept {
  if (result.cancelled()) {  // its await gave up before its turn: it reads nothing
    self.release_turn();
    return;
  }
  try {
    std::string& held = self.pushback;
    if (kind == read_kind::count && held.size() >= n) {
      result.set_result(held.substr(0, n));
      held.erase(0, n);
      return;
    }
    if (kind == read_kind::line) {
      const std::size_t eol = held.find('\n');
      if (eol != std::string::npos) {
        result.set_result(held.substr(0, eol + 1));
        held.erase(0, eol + 1);
        return;
      }
    }
    const std::size_t rest = kind == read_kind::count ? n - held.size() : 0;
    auto job = std::make_shared<file_job>();
    job->result.data = std::move(held);
    held.clear();
    job->work = [h = self.handle, kind, rest](job_result& r) {
      switch (kind) {
        case read_kind::count: h->read_n(r.data, rest); break;
        case read_kind::all: h->read_all(r.data); break;
        case read_kind::line: h->read_line(r.data); break;
      }
    };
    job->done = [ch = self.shared_from_this(), result](job_result& r) mutable {
      if (result.cancelled()) {  // the reader gave up: keep the data for the next read
        ch->pushback.insert(0, r.data);
        ch->release_turn();
      } else if (r.error) {
        ch->pushback.insert(0, r.data);
        result.set_exception(r.error);  // the reader passes the turn on
      } else {
        result.set_result(std::move(r.data));  // the reader passes the turn on
      }
    };
    run_job(*self.loop, std::move(job));
  } catch (...) {  // bad_alloc
    result.set_exception(std::current_exception());
  }
}

/// The reader gave up (cancelled_error). Either its read is still to come or
/// in flight (then it sees the cancelled future and keeps the data), or the
/// data had arrived but the reader was cancelled before it resumed: then
/// the data goes back to the front of the pushback buffer here.
void abandon_read(file_channel& ch, future<read_data>& result) noexcept {
  if (!result.done()) {
    result.cancel();
    return;
  }
  if (!result.cancelled() && !result.exception()) {
    try {
      ch.pushback.insert(0, result.result().bytes);
    } catch (...) {  // bad_alloc: the data is lost, the order is kept
    }
  }
  ch.release_turn();
}

task<std::string> read_op(std::shared_ptr<file_channel> ch, read_kind kind, std::size_t n) {
  ch = open_channel(std::move(ch));
  future<read_data> result;
  file_channel* self = ch.get();
  std::function<void()> start = [self, result, kind, n] { start_read(*self, result, kind, n); };
  ch->enqueue(std::move(start));
  try {
    read_data data = co_await shield(result);
    ch->release_turn();
    co_return std::move(data.bytes);
  } catch (const cancelled_error&) {
    abandon_read(*ch, result);
    throw;
  } catch (...) {  // the job failed; what it read is back in the pushback buffer
    ch->release_turn();
    throw;
  }
}

// --- everything else -----------------------------------------------------------

enum class op_kind : unsigned char { write, flush, seek, tell, close };

struct op_args {
  op_kind kind;
  std::string data;
  std::int64_t offset = 0;
  int whence = SEEK_SET;
};

/// A write / flush / seek / tell / close in its turn: it runs whether or not
/// anyone still awaits it, and passes the turn on when its job is done.
void start_op(file_channel& self, future<std::int64_t> result, op_args& a) noexcept {
  try {
    const std::size_t held = self.pushback.size();
    auto job = std::make_shared<file_job>();
    job->work = [h = self.handle, kind = a.kind, data = std::move(a.data), offset = a.offset, whence = a.whence,
                 held](job_result& r) {
      switch (kind) {
        case op_kind::write: r.number = static_cast<std::int64_t>(h->write(data, held)); break;
        case op_kind::flush: h->flush(); break;
        case op_kind::seek:
          r.number = h->seek(whence == SEEK_CUR ? offset - static_cast<std::int64_t>(held) : offset, whence);
          break;
        case op_kind::tell: r.number = h->tell() - static_cast<std::int64_t>(held); break;
        case op_kind::close: h->close(); break;
      }
    };
    job->done = [ch = self.shared_from_this(), result, kind = a.kind](job_result& r) mutable {
      // A write gave the held-back data back to the stream; a seek or close drops it.
      const bool consumed_pushback = kind == op_kind::write || kind == op_kind::seek;
      if ((consumed_pushback && !r.error) || kind == op_kind::close) ch->pushback.clear();
      if (r.error) result.set_exception(r.error);
      else result.set_result(r.number);
      ch->release_turn();
    };
    run_job(*self.loop, std::move(job));
  } catch (...) {  // bad_alloc
    result.set_exception(std::current_exception());
    self.release_turn();
  }
}

/// Queues an operation and returns its result future (the caller may await it or not).
future<std::int64_t> submit_op(file_channel& ch, op_args a) {
  future<std::int64_t> result;
  file_channel* self = &ch;
  std::function<void()> start = [self, result, a = std::move(a)]() mutable { start_op(*self, result, a); };
  ch.enqueue(std::move(start));
  return result;
}

task<std::size_t> write_op(std::shared_ptr<file_channel> ch, std::string data) {
  ch = open_channel(std::move(ch));
  op_args a{op_kind::write, std::move(data)};
  future<std::int64_t> result = submit_op(*ch, std::move(a));
  co_return static_cast<std::size_t>(co_await shield(result));
}

task<std::int64_t> position_op(std::shared_ptr<file_channel> ch, op_kind kind, std::int64_t offset, int whence) {
  ch = open_channel(std::move(ch));
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
    throw value_error("aio: seek in '" + ch->name + "': invalid whence (" + std::to_string(whence) +
                      "), expected 0 (SEEK_SET), 1 (SEEK_CUR) or 2 (SEEK_END)");
  op_args a{kind, {}, offset, whence};
  future<std::int64_t> result = submit_op(*ch, std::move(a));
  co_return co_await shield(result);
}

task<void> flush_op(std::shared_ptr<file_channel> ch) {
  ch = open_channel(std::move(ch));
  op_args a{op_kind::flush, {}};
  future<std::int64_t> result = submit_op(*ch, std::move(a));
  co_await shield(result);
}

task<void> close_op(std::shared_ptr<file_channel> ch) {
  if (!ch || ch->closed) co_return;  // as in Python, closing a closed file does nothing
  if (running_loop() != ch->loop) ch->check_open();  // throws invalid_state_error
  ch->closed = true;
  op_args a{op_kind::close, {}};
  future<std::int64_t> result = submit_op(*ch, std::move(a));
  co_await shield(result);
}

/// The async_file let go of an open file: close it after what was issued.
void abandon_file(std::shared_ptr<file_channel> ch) noexcept {
  if (!ch || ch->closed) return;
  ch->closed = true;
  // Off its running loop (the loop is closing, or the file outlived aio::run)
  // there is no one to run a job: file_handle's destructor closes the stream
  // when the last job, or this, lets go of it.
  if (running_loop() != ch->loop) return;
  try {
    op_args a{op_kind::close, {}};
    (void)submit_op(*ch, std::move(a));
  } catch (...) {  // bad_alloc: the destructor of file_handle still closes it
  }
}

// --- opening -------------------------------------------------------------------

struct open_mode {
  std::string fopen_mode;
  const char* purpose;
  bool append;
};

open_mode parse_mode(const std::string& mode) {
  auto invalid = [&mode](const char* why) {
    return value_error("aio::open_file(): invalid mode '" + mode + "': " + why +
                       " (Python's modes: one of 'r', 'w', 'a', 'x', then optionally '+' and 'b' or 't')");
  };
  char base = 0;
  bool plus = false, binary = false, text = false;
  for (char c : mode) {
    switch (c) {
      case 'r':
      case 'w':
      case 'a':
      case 'x':
        if (base != 0) throw invalid("must have exactly one of create/read/write/append mode");
        base = c;
        break;
      case '+':
        if (plus) throw invalid("'+' given twice");
        plus = true;
        break;
      case 'b':
        if (binary) throw invalid("'b' given twice");
        binary = true;
        break;
      case 't':
        if (text) throw invalid("'t' given twice");
        text = true;
        break;
      default: throw invalid("unknown mode character");
    }
  }
  if (base == 0) throw invalid("must have exactly one of create/read/write/append mode");
  if (binary && text) throw invalid("can't have text and binary mode at once");
  // glibc's fopen: "x" is O_EXCL, "e" is O_CLOEXEC.
  open_mode m{};
  m.append = base == 'a';
  switch (base) {
    case 'r':
      m.fopen_mode = plus ? "r+e" : "re";
      m.purpose = plus ? "for reading and writing" : "for reading";
      break;
    case 'w':
      m.fopen_mode = plus ? "w+e" : "we";
      m.purpose = plus ? "for writing and reading" : "for writing";
      break;
    case 'a':
      m.fopen_mode = plus ? "a+e" : "ae";
      m.purpose = plus ? "for appending and reading" : "for appending";
      break;
    default:
      m.fopen_mode = plus ? "w+xe" : "wxe";
      m.purpose = plus ? "for exclusive creation and reading" : "for exclusive creation";
      break;
  }
  return m;
}

/// On a pool thread.
std::shared_ptr<file_handle> open_handle(const std::string& path, const open_mode& m) {
  auto h = std::make_shared<file_handle>();
  h->name = path;
  auto fail = [&](int err) -> std::system_error {
    return std::system_error(err, std::generic_category(), "aio: cannot open '" + path + "' " + m.purpose);
  };
  h->fp = std::fopen(path.c_str(), m.fopen_mode.c_str());
  if (h->fp == nullptr) throw fail(errno);
  // fopen opens a directory for reading; Python's open says EISDIR, and so do we.
  struct stat st {};
  if (::fstat(::fileno(h->fp), &st) == 0 && S_ISDIR(st.st_mode)) throw fail(EISDIR);
  // Python starts an appending file at its end, so tell() is the size.
  if (m.append && ::fseeko(h->fp, 0, SEEK_END) != 0) throw fail(errno);
  return h;
}

}  // namespace
}  // namespace detail

// --- async_file ------------------------------------------------------------------

async_file& async_file::operator=(async_file&& other) noexcept {
  if (this != &other) {
    detail::abandon_file(std::exchange(ch_, std::move(other.ch_)));
  }
  return *this;
}

async_file::~async_file() { detail::abandon_file(std::move(ch_)); }

task<std::string> async_file::read(std::ptrdiff_t n) {
  if (n < 0) return detail::read_op(ch_, detail::read_kind::all, 0);
  return detail::read_op(ch_, detail::read_kind::count, static_cast<std::size_t>(n));
}

task<std::string> async_file::readline() { return detail::read_op(ch_, detail::read_kind::line, 0); }

namespace {
task<std::vector<std::string>> split_lines(task<std::string> all) {
  const std::string text = co_await all;
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t eol = text.find('\n', begin);
    const std::size_t end = eol == std::string::npos ? text.size() : eol + 1;
    lines.emplace_back(text, begin, end - begin);
    begin = end;
  }
  co_return lines;
}
}  // namespace

task<std::vector<std::string>> async_file::readlines() {
  return split_lines(detail::read_op(ch_, detail::read_kind::all, 0));
}

task<std::size_t> async_file::write(std::string data) { return detail::write_op(ch_, std::move(data)); }

task<void> async_file::flush() { return detail::flush_op(ch_); }

task<void> async_file::close() { return detail::close_op(ch_); }

task<std::int64_t> async_file::seek(std::int64_t offset, int whence) {
  return detail::position_op(ch_, detail::op_kind::seek, offset, whence);
}

task<std::int64_t> async_file::tell() { return detail::position_op(ch_, detail::op_kind::tell, 0, SEEK_SET); }

bool async_file::closed() const noexcept { return !ch_ || ch_->closed; }

const std::string& async_file::name() const noexcept {
  static const std::string none;
  return ch_ ? ch_->name : none;
}

const std::string& async_file::mode() const noexcept {
  static const std::string none;
  return ch_ ? ch_->mode : none;
}

// --- open_file -------------------------------------------------------------------

task<async_file> open_file(std::string path, std::string mode) {
  const detail::open_mode m = detail::parse_mode(mode);
  auto job = [path, m] { return detail::open_handle(path, m); };
  auto opening = to_thread(std::move(job));
  std::shared_ptr<detail::file_handle> handle = co_await opening;
  auto ch = std::make_shared<detail::file_channel>();
  ch->handle = std::move(handle);
  ch->name = std::move(path);
  ch->mode = std::move(mode);
  ch->loop = &get_running_loop();
  co_return async_file{std::move(ch)};
}

}  // namespace aio
