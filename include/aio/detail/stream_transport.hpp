// The buffered, non-blocking byte pipe behind stream_reader and stream_writer:
// a socket or a pipe registered once with the reactor (edge-triggered).
//
// Reading: data is only ever appended to the read buffer by fill(), and taken
// from it by a read that is complete; a read cancelled while waiting leaves the
// buffer as it was, so no byte is lost or reordered.
// Writing: write() sends at once when nothing is queued and queues the rest; a
// background writer (an io_waiter, not a task) flushes the queue on writable
// edges, so data flows even if the program never calls drain().
#pragma once

#include <aio/detail/intrusive_list.hpp>
#include <aio/detail/reactor.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/exceptions.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aio {
class event_loop;
}

namespace aio::detail {

class stream_transport {
 public:
  enum class kind : std::uint8_t { socket, pipe };
  static constexpr std::size_t default_limit = 64 * 1024;

  stream_transport(event_loop& loop, int fd, kind k, std::size_t limit = default_limit);
  stream_transport(const stream_transport&) = delete;
  stream_transport& operator=(const stream_transport&) = delete;
  ~stream_transport();

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  // --- reading ---------------------------------------------------------
  /// Bytes buffered and not yet read.
  [[nodiscard]] std::string_view buffered() const noexcept {
    return std::string_view(rbuf_).substr(rpos_);
  }
  /// Removes `n` buffered bytes and returns them.
  std::string take(std::size_t n);
  /// Reads what the descriptor has (until EAGAIN) into the buffer; if nothing
  /// came, waits for readability once. Sets at_eof() at end of stream; throws
  /// std::system_error on a read error (a peer reset is an error, not EOF).
  static task<void> fill(stream_transport* self);
  [[nodiscard]] bool at_eof() const noexcept { return eof_ && rpos_ == rbuf_.size(); }
  [[nodiscard]] bool eof_seen() const noexcept { return eof_; }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
  /// One read at a time, as asyncio's StreamReader enforces: a second reader
  /// would take bytes the first is waiting to complete.
  void begin_read() {
    if (reading_)
      throw invalid_state_error("aio::stream_reader: another coroutine is already reading from this stream");
    reading_ = true;
  }
  void end_read() noexcept { reading_ = false; }

  // --- writing ---------------------------------------------------------
  void write(std::string_view data);
  /// Waits while more than the high-water mark is queued, until it falls to the
  /// low-water mark. Throws std::system_error if the connection failed.
  static task<void> drain(stream_transport* self);
  void write_eof();
  void close();
  static task<void> wait_closed(stream_transport* self);
  [[nodiscard]] bool is_closing() const noexcept { return closing_ || closed_; }
  [[nodiscard]] std::size_t write_buffer_size() const noexcept { return wbuf_.size() - wpos_; }
  void set_write_buffer_limits(std::size_t high, std::size_t low) noexcept {
    high_water_ = high;
    low_water_ = low;
  }

  [[nodiscard]] int fd() const noexcept { return reg_.fd; }
  [[nodiscard]] io_registration& registration() noexcept { return reg_; }
  [[nodiscard]] event_loop& loop() const noexcept { return *loop_; }

 private:
  struct flusher : io_waiter {
    stream_transport* owner;
  };
  struct state_waiter : waiting_task, list_node {
    bool cancelled = false;
  };
  class wait_state_operation;

  /// Sends as much of `data` as the socket takes now; returns how much. On
  /// EAGAIN clears the cached writability; on an error records it (fail_write).
  std::size_t send_now(std::string_view data) noexcept;
  /// Sends what is queued; true when the queue is empty (or the connection failed).
  bool flush() noexcept;
  static void on_writable(io_waiter* w) noexcept;
  void wake_state_waiters() noexcept;
  void close_now() noexcept;
  void fail_write(int err) noexcept;
  void throw_if_write_failed() const;

  event_loop* loop_;
  io_registration reg_;
  flusher flusher_{};
  intrusive_list<state_waiter> state_waiters_;  // drain() and wait_closed()
  std::string rbuf_;
  std::size_t rpos_ = 0;
  std::string wbuf_;
  std::size_t wpos_ = 0;
  std::size_t limit_;
  std::size_t high_water_ = 64 * 1024;
  std::size_t low_water_ = 16 * 1024;
  std::uint32_t refs_ = 1;
  int write_error_ = 0;
  kind kind_;
  bool eof_ = false;
  bool reading_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool eof_after_flush_ = false;
  bool flushing_ = false;  // the background writer is armed (and holds a reference)
};

/// A counted reference to a transport (reader and writer share one).
class transport_ref {
 public:
  transport_ref() noexcept = default;
  explicit transport_ref(stream_transport* t) noexcept : t_(t) {}  // adopts one reference
  transport_ref(const transport_ref& o) noexcept : t_(o.t_) {
    if (t_) t_->add_ref();
  }
  transport_ref(transport_ref&& o) noexcept : t_(o.t_) { o.t_ = nullptr; }
  transport_ref& operator=(transport_ref o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~transport_ref() {
    if (t_) t_->release();
  }
  stream_transport* operator->() const noexcept { return t_; }
  stream_transport* get() const noexcept { return t_; }
  explicit operator bool() const noexcept { return t_ != nullptr; }

 private:
  stream_transport* t_ = nullptr;
};

}  // namespace aio::detail
