#include <aio/detail/stream_transport.hpp>

#include <aio/detail/io_wait.hpp>
#include <aio/event_loop.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace aio::detail {

namespace {
constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t max_fill = 256 * 1024;  // per fill(), so one busy peer cannot hog an iteration
}  // namespace

class stream_transport::wait_state_operation : state_waiter {
 public:
  explicit wait_state_operation(stream_transport& t) noexcept : t_(t) {}
  // Moved only before the await starts (see detail/sleep.hpp).
  wait_state_operation(wait_state_operation&& o) noexcept : wait_state_operation(o.t_) {}
  ~wait_state_operation() {
    if (linked()) intrusive_list<state_waiter>::unlink(this);
  }
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    t_.state_waiters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&on_cancel, "a stream to drain or close">);
  }
  void await_resume() {
    if (cancelled) task_context::throw_cancelled();
    context->throw_if_cancel_pending();
  }

 private:
  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<wait_state_operation*>(s);
    intrusive_list<state_waiter>::unlink(self);
    self->cancelled = true;
    self->wake();
    return true;
  }
  stream_transport& t_;
};

stream_transport::stream_transport(event_loop& loop, int fd, kind k, std::size_t limit)
    : loop_(&loop), limit_(limit), kind_(k) {
  reg_.fd = fd;
  flusher_.owner = this;
  flusher_.on_ready = &on_writable;
  try {
    loop.io().add(reg_);
  } catch (...) {
    ::close(fd);
    throw;
  }
}

stream_transport::~stream_transport() {
  if (!closed_) close_now();
}

std::string stream_transport::take(std::size_t n) {
  n = std::min(n, rbuf_.size() - rpos_);
  std::string out(rbuf_.data() + rpos_, n);
  rpos_ += n;
  if (rpos_ == rbuf_.size()) {
    rbuf_.clear();
    rpos_ = 0;
  }
  return out;
}

task<void> stream_transport::fill(stream_transport* self) {
  for (;;) {
    if (self->eof_ || self->closed_) {
      self->eof_ = true;
      co_return;
    }
    bool got = false;
    if (self->reg_.readable) {
      std::size_t total = 0;
      while (total < max_fill) {
        if (self->rpos_ > 0 && self->rpos_ == self->rbuf_.size()) {
          self->rbuf_.clear();
          self->rpos_ = 0;
        } else if (self->rpos_ > self->rbuf_.size() / 2 && self->rpos_ > read_chunk) {
          self->rbuf_.erase(0, self->rpos_);
          self->rpos_ = 0;
        }
        // Receive into a per-thread scratch buffer and append what came:
        // growing the string first would zero 64 KiB per read (the memset was
        // most of aio's own CPU time in tcp_echo) and pin 64 KiB per connection.
        static thread_local char scratch[read_chunk];
        const ssize_t n = self->kind_ == kind::socket ? ::recv(self->reg_.fd, scratch, read_chunk, 0)
                                                      : ::read(self->reg_.fd, scratch, read_chunk);
        const int err = errno;
        if (n > 0) self->rbuf_.append(scratch, static_cast<std::size_t>(n));
        if (n > 0) {
          got = true;
          total += static_cast<std::size_t>(n);
          // A short read drained the socket: the next arrival raises a new edge,
          // so we need not spend a system call to hear EAGAIN. Unless that
          // edge also reported the peer's close: no edge will follow it, so
          // the end of stream must be read now.
          if (static_cast<std::size_t>(n) < read_chunk && !self->reg_.peer_closed) {
            self->reg_.readable = false;
            break;
          }
          continue;
        }
        if (n == 0) {
          self->eof_ = true;
          break;
        }
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          self->reg_.readable = false;
          break;
        }
        throw std::system_error(err, std::generic_category(), "aio: read from the stream failed");
      }
    }
    if (got || self->eof_) co_return;
    io_wait_operation wait{self->reg_, false};
    co_await wait;
  }
}

void stream_transport::write(std::string_view data) {
  if (closing_ || closed_)
    throw invalid_state_error("aio::stream_writer::write() after close(): the stream no longer accepts data");
  throw_if_write_failed();
  if (data.empty()) return;
  if (wpos_ == wbuf_.size()) {
    // Nothing queued: try to send it all right now, without the poller.
    const std::size_t sent = send_now(data);
    if (sent == data.size() || write_error_ != 0) return;  // a failure is reported by drain(), as asyncio does
    wbuf_.assign(data.substr(sent));
    wpos_ = 0;
  } else {
    wbuf_.append(data);
  }
  if (!flushing_) {
    flushing_ = true;
    add_ref();  // the background writer keeps us alive until the queue is sent
    reg_.writer = &flusher_;
  }
}

std::size_t stream_transport::send_now(std::string_view data) noexcept {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = kind_ == kind::socket
                          ? ::send(reg_.fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT)
                          : ::write(reg_.fd, data.data() + sent, data.size() - sent);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      reg_.writable = false;  // the next writable edge resumes us
      break;
    }
    fail_write(n < 0 ? errno : EPIPE);
    break;
  }
  return sent;
}

bool stream_transport::flush() noexcept {
  wpos_ += send_now(std::string_view(wbuf_).substr(wpos_));
  if (write_error_ != 0) return true;
  if (wpos_ < wbuf_.size()) return false;
  wbuf_.clear();
  wpos_ = 0;
  return true;
}

void stream_transport::on_writable(io_waiter* w) noexcept {
  stream_transport* self = static_cast<flusher*>(w)->owner;
  const bool done = self->flush();
  self->wake_state_waiters();  // drain() rechecks the low-water mark
  if (!done) {
    self->reg_.writer = &self->flusher_;
    return;
  }
  self->flushing_ = false;
  if (self->closing_) {
    self->close_now();
  } else if (self->eof_after_flush_) {
    self->eof_after_flush_ = false;
    if (self->kind_ == kind::socket) ::shutdown(self->reg_.fd, SHUT_WR);
  }
  self->release();
}

void stream_transport::wake_state_waiters() noexcept {
  while (!state_waiters_.empty()) state_waiters_.pop_front()->wake();
}

void stream_transport::fail_write(int err) noexcept {
  write_error_ = err;
  wbuf_.clear();
  wpos_ = 0;
  wake_state_waiters();
}

void stream_transport::throw_if_write_failed() const {
  if (write_error_ != 0)
    throw std::system_error(write_error_, std::generic_category(), "aio: write to the stream failed");
}

task<void> stream_transport::drain(stream_transport* self) {
  self->throw_if_write_failed();
  if (self->write_buffer_size() <= self->high_water_) co_return;
  while (self->write_buffer_size() > self->low_water_ && self->write_error_ == 0 && !self->closed_) {
    wait_state_operation wait{*self};
    co_await wait;
  }
  self->throw_if_write_failed();
}

void stream_transport::write_eof() {
  if (closing_ || closed_) return;
  if (write_buffer_size() > 0) {
    eof_after_flush_ = true;
    return;
  }
  if (kind_ == kind::socket) ::shutdown(reg_.fd, SHUT_WR);
  else close_now();  // a pipe's end of stream is its close
}

void stream_transport::close() {
  if (closing_ || closed_) return;
  closing_ = true;
  if (write_buffer_size() == 0 || write_error_ != 0) close_now();
  // else the background writer closes once the queue is sent
}

void stream_transport::close_now() noexcept {
  if (closed_) return;
  closed_ = true;
  eof_ = true;
  loop_->io().remove(reg_);
  ::close(reg_.fd);
  // A reader waiting on the descriptor sees end of stream.
  if (auto* r = std::exchange(reg_.reader, nullptr)) r->on_ready(r);
  reg_.writer = nullptr;
  wake_state_waiters();
}

task<void> stream_transport::wait_closed(stream_transport* self) {
  while (!self->closed_) {
    wait_state_operation wait{*self};
    co_await wait;
  }
}

}  // namespace aio::detail
