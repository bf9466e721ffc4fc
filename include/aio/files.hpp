// aio/files.hpp — files read and written on the thread pool (the twin of
// Python's aiofiles): aio::open_file and aio::async_file.
//
// epoll cannot wait on regular files (they are always "ready", and a read
// may still block on the disk), so, like aiofiles, every blocking call —
// open, read, write, flush, seek, close — runs on the loop's default executor
// (aio::to_thread's pool) and the awaiting task resumes on the loop's thread.
//
// Order: the operations on one file run one at a time, in the order their
// tasks start (for tasks made with create_task or gather, the order they were
// made in), whatever happens to the awaits: an operation whose await was
// cancelled still takes its place, so later ones never overtake it. (A task
// cancelled before its first step never runs, as in asyncio: its operation
// never joins the queue.)
//
// Cancellation: cancelling an await returns control at once (the job finishes
// on its thread). No data is lost: a write still happens, in order; a read
// whose await gave up keeps what it read for the next read (see read()).
//
// Text and binary modes behave the same (Linux has no newline translation):
// data is a std::string of bytes either way; no encoding is applied.
//
// Errors are std::system_error carrying errno, naming the operation and the
// path: "aio: cannot open 'missing.txt' for reading: No such file or directory".
//
// Loop-affine, not thread-safe: use a file from the loop that opened it.
#pragma once

#include <aio/task.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace aio {

namespace detail {
struct file_channel;  // src/files.cpp
}

/// An open file (aiofiles' AsyncTextIOWrapper / AsyncBufferedReader): made by
/// open_file. Move-only. Its operations return lazy tasks that hold a share of
/// the file, so a task may outlive the async_file object that made it.
///
/// Destroying a file that was not closed closes it: after the operations
/// already issued, on the thread pool (the descriptor is never leaked; if the
/// loop is not running, it is closed when the last job lets go of it). Await
/// close() to see close errors (e.g. a failed final flush), as in Python.
///
/// Every operation also throws invalid_state_error when used off the loop
/// that opened the file (a file is loop-affine).
class async_file {
 public:
  /// A closed file with no name (closed() is true; every operation throws value_error).
  async_file() noexcept = default;
  async_file(async_file&& other) noexcept = default;
  /// Closes this file as the destructor does, then takes `other`'s.
  async_file& operator=(async_file&& other) noexcept;
  async_file(const async_file&) = delete;
  async_file& operator=(const async_file&) = delete;
  ~async_file();

  /// f.read(n): up to `n` bytes — fewer only at end of file — or, for n < 0,
  /// everything up to the end of file. "" at end of file. Like Python's
  /// buffered read, on a pipe it waits for `n` bytes or end of file.
  /// Resumes: on the loop's thread once the job has finished (its result
  /// comes back through the loop's queue, never inline); at once, without
  /// suspending, when data held back from a cancelled read is enough.
  /// Cancellation: returns control at once with cancelled_error. If the read
  /// had already started, the job runs on and what it read is kept in the
  /// file's pushback buffer: the next read / readline / readlines serves it
  /// first, in order. If its turn had not come yet, it reads nothing.
  /// Throws: value_error on a closed file; std::system_error (errno, path) if
  /// the read fails — e.g. EBADF for a file opened write-only.
  /// Example: examples/07_files.cpp
  [[nodiscard]] task<std::string> read(std::ptrdiff_t n = -1);
  /// f.readline(): the next line, '\n' included (the last line may lack it);
  /// "" at end of file.
  /// Resumes, Cancellation, Throws: as read().
  [[nodiscard]] task<std::string> readline();
  /// f.readlines(): the remaining lines, each with its '\n'.
  /// Resumes, Cancellation, Throws: as read() (a cancelled readlines keeps all
  /// it read for the next read).
  [[nodiscard]] task<std::vector<std::string>> readlines();

  /// f.write(data): hands `data` to the file's buffer (std::FILE*, as Python's
  /// buffered files do; flush() or close() push it to the OS) and returns
  /// data.size(), like Python's write. In "r+"/"w+" mode, a write after a read
  /// lands at the logical position (data held back from cancelled reads is
  /// given back first), as in Python.
  /// Resumes: on the loop's thread once the job has finished.
  /// Cancellation: returns control at once with cancelled_error; the write
  /// still happens, in its place in the file's order (its error, if any, is
  /// then lost, as asyncio drops the exception of a future nobody awaits).
  /// Throws: value_error on a closed file; std::system_error (errno, path) —
  /// e.g. EBADF for a file opened read-only, ENOSPC.
  /// Example: examples/07_files.cpp
  [[nodiscard]] task<std::size_t> write(std::string data);
  /// f.flush(): pushes buffered writes to the OS (not to the disk: no fsync).
  /// Resumes: on the loop's thread once the job has finished.
  /// Cancellation: returns at once; the flush still happens, in order.
  /// Throws: value_error on a closed file; std::system_error (errno, path).
  [[nodiscard]] task<void> flush();
  /// f.close(): flushes and closes, after every operation issued before it.
  /// closed() is true from the moment close() starts, and later operations
  /// throw value_error. Closing a closed file does nothing (as in Python).
  /// Resumes: on the loop's thread once the job has finished.
  /// Cancellation: returns at once; the file is still closed, in order.
  /// Throws: std::system_error (errno, path) if the final flush fails; the
  /// descriptor is closed anyway.
  /// Example: examples/07_files.cpp
  [[nodiscard]] task<void> close();

  /// f.seek(offset, whence): moves the position — whence 0 (SEEK_SET) from
  /// the start, 1 (SEEK_CUR) from the current logical position, 2 (SEEK_END)
  /// from the end — and returns the new absolute position. Data held back from
  /// cancelled reads is dropped (the position accounts for it).
  /// Resumes: on the loop's thread once the job has finished.
  /// Cancellation: returns at once; the seek still happens, in order.
  /// Throws: value_error on a closed file or for another whence;
  /// std::system_error (errno, path) — e.g. ESPIPE on a pipe, EINVAL for a
  /// negative position.
  [[nodiscard]] task<std::int64_t> seek(std::int64_t offset, int whence = 0);
  /// f.tell(): the logical position (what the next read would start at).
  /// Resumes, Cancellation: as seek(). Throws: value_error on a closed file;
  /// std::system_error (errno, path), e.g. ESPIPE on a pipe.
  [[nodiscard]] task<std::int64_t> tell();

  /// f.closed: true once close() has started (or for a moved-from or
  /// default-constructed file).
  [[nodiscard]] bool closed() const noexcept;
  /// f.name: the path given to open_file ("" for a default-constructed file).
  [[nodiscard]] const std::string& name() const noexcept;
  /// f.mode: the mode given to open_file.
  [[nodiscard]] const std::string& mode() const noexcept;

 private:
  friend task<async_file> open_file(std::string path, std::string mode);
  explicit async_file(std::shared_ptr<detail::file_channel> channel) noexcept : ch_(std::move(channel)) {}
  std::shared_ptr<detail::file_channel> ch_;
};

/// aiofiles.open(path, mode): opens `path` on the thread pool. `mode` is
/// Python's: exactly one of "r" (read), "w" (truncate or create), "a"
/// (append, create), "x" (create, failing if it exists), optionally "+"
/// (read and write) and "b" or "t" (the same thing here). The descriptor is
/// close-on-exec. There is no `async with`: call close(), or let the
/// async_file's destructor close it.
/// Resumes: on the loop's thread once the open has finished. Opening a FIFO
/// waits (on the pool) for the other end, as in Python.
/// Cancellation: returns control at once with cancelled_error; if the open
/// succeeds after all, the file is closed again (nothing leaks).
/// Throws: value_error for an invalid mode (before anything runs);
/// std::system_error carrying errno, naming the path and what was asked:
/// "aio: cannot open 'missing.txt' for reading: No such file or directory".
/// Example: examples/07_files.cpp
[[nodiscard]] task<async_file> open_file(std::string path, std::string mode = "r");

}  // namespace aio
