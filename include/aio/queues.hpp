// aio/queues.hpp — queues for coroutines (asyncio's queues.py): queue (FIFO),
// priority_queue (smallest first) and lifo_queue, with queue_empty,
// queue_full and queue_shut_down.
//
// Waiting getters and putters are served in FIFO order and nobody overtakes
// them: an item put while getters wait is handed to the first getter (it
// never sits in the queue for a newcomer to take), and a slot freed while
// putters wait is reserved for the first putter. Wake-ups are scheduled on
// the loop's ready queue, never resumed inline.
//
// Cancel safety (each operation's Cancellation paragraph says the same):
// a cancelled get() has taken nothing — an item already handed to it goes back
// to the front of the queue (or straight to the next getter); a cancelled put()
// has put nothing — the slot reserved for it passes to the next putter.
//
// Because of those hand-offs, for one loop iteration an item may be on its way
// to a getter (it is no longer counted by qsize()) and a slot may be reserved
// for a putter; full() counts both, so `if (!q.full()) q.put_nowait(x);` and
// `if (!q.empty()) q.get_nowait();` never throw.
//
// A queue must outlive the coroutines waiting on it. Loop-affine, not thread-safe.
#pragma once

#include <aio/detail/queue_storage.hpp>
#include <aio/detail/waiter_list.hpp>
#include <aio/exceptions.hpp>
#include <aio/locks.hpp>

#include <coroutine>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace aio {

/// asyncio.QueueEmpty: get_nowait() on an empty queue.
class queue_empty : public std::runtime_error {
 public:
  queue_empty() : std::runtime_error("aio::queue_empty: get_nowait() on an empty queue") {}
};
/// asyncio.QueueFull: put_nowait() on a full queue.
class queue_full : public std::runtime_error {
 public:
  queue_full() : std::runtime_error("aio::queue_full: put_nowait() on a full queue") {}
};
/// asyncio.QueueShutDown (3.13): put after shutdown(), or get once a shut-down
/// queue is empty.
class queue_shut_down : public std::runtime_error {
 public:
  queue_shut_down() : std::runtime_error("aio::queue_shut_down: the queue was shut down") {}
};

namespace detail {

/// What queue, priority_queue and lifo_queue share; Storage gives the order.
template <class T, class Storage>
class basic_queue {
 public:
  using value_type = T;
  class put_operation;
  class get_operation;

  /// maxsize 0 (the default) means unbounded.
  explicit basic_queue(std::size_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  /// Queue.put(): waits while the queue is full, then puts `item`.
  /// Resumes: at once if there is room (no suspension); else when a get makes
  /// room, in FIFO order with the other putters.
  /// Cancellation: nothing was put (the item is destroyed with the operation);
  /// a slot already reserved for this put passes to the next putter.
  /// Throws: queue_shut_down if the queue is (or gets) shut down.
  [[nodiscard]] put_operation put(T item) { return put_operation{*this, std::move(item)}; }
  /// Queue.get(): waits while the queue is empty, then removes and returns an item.
  /// Resumes: at once if an item is there (no suspension); else when one is
  /// put, in FIFO order with the other getters.
  /// Cancellation: nothing was taken; an item already handed over goes back to
  /// the front of the queue (or to the next getter).
  /// Throws: queue_shut_down if the queue is shut down and empty.
  [[nodiscard]] get_operation get() noexcept { return get_operation{*this}; }

  /// Queue.put_nowait(). Throws: queue_full, or queue_shut_down.
  void put_nowait(T item) {
    if (shut_down_) throw queue_shut_down{};
    if (full()) throw queue_full{};
    deliver(std::move(item));
  }
  /// Queue.get_nowait(). Throws: queue_empty, or queue_shut_down if shut down and empty.
  T get_nowait() {
    if (items_.size() == 0) {
      if (shut_down_) throw queue_shut_down{};
      throw queue_empty{};
    }
    return take();
  }
  /// put_nowait() without exceptions: false (and `item` untouched) if the
  /// queue is full or shut down.
  bool try_put(T&& item) {
    if (shut_down_ || full()) return false;
    deliver(std::move(item));
    return true;
  }
  bool try_put(const T& item)
    requires std::is_copy_constructible_v<T>
  {
    if (shut_down_ || full()) return false;
    deliver(T(item));
    return true;
  }
  /// get_nowait() without exceptions: nullopt if the queue is empty.
  std::optional<T> try_get() {
    if (items_.size() == 0) return std::nullopt;
    return std::optional<T>{take()};
  }

  /// Items in the queue (not counting one already handed to a waiting getter).
  [[nodiscard]] std::size_t qsize() const noexcept { return items_.size(); }
  [[nodiscard]] bool empty() const noexcept { return items_.size() == 0; }
  /// No room for a put without waiting (counts items on their way to getters
  /// and slots reserved for putters).
  [[nodiscard]] bool full() const noexcept {
    return maxsize_ > 0 && items_.size() + in_transit_ + reserved_ >= maxsize_;
  }
  [[nodiscard]] std::size_t maxsize() const noexcept { return maxsize_; }

  /// Queue.task_done(): a consumer finished an item it got.
  /// Throws: value_error if called more times than items were put.
  void task_done() {
    if (unfinished_ == 0) throw value_error("aio::queue::task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  /// Queue.join(): waits until task_done() was called for every item put.
  /// Resumes: at once if nothing is unfinished; else the iteration after the
  /// last task_done() (or an immediate shutdown).
  /// Cancellation: cancelled_error; nothing is lost.
  [[nodiscard]] event::wait_operation join() noexcept { return finished_.wait(); }

  /// Queue.shutdown() (3.13): put / put_nowait throw queue_shut_down from now
  /// on; getters get the remaining items, then queue_shut_down. Blocked
  /// putters and getters are woken with queue_shut_down. With `immediate`,
  /// the remaining items (and items on their way to getters) are dropped,
  /// counted as done for join(), and every get throws queue_shut_down.
  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      immediate_ = true;
      const std::size_t dropped = items_.size() + in_transit_;
      items_.clear();
      in_transit_ = 0;  // their getters find immediate_ set and drop them
      unfinished_ = unfinished_ > dropped ? unfinished_ - dropped : 0;
      if (unfinished_ == 0) finished_.set();
    }
    while (!getters_.empty()) getters_.grant_front();  // no item: queue_shut_down
    while (!putters_.empty()) putters_.grant_front();  // no slot: queue_shut_down
  }
  [[nodiscard]] bool is_shut_down() const noexcept { return shut_down_; }

 private:
  /// Counts the item as unfinished and hands it to the first getter, or stores it.
  void deliver(T&& item) {
    if (!getters_.empty()) {
      getters_.front()->item_.emplace(std::move(item));
      ++in_transit_;
      getters_.grant_front();
    } else {
      items_.push(std::move(item));
    }
    ++unfinished_;
    finished_.clear();
  }
  /// An item handed to a getter that was cancelled before it ran: to the next
  /// getter, else back where it came from.
  void give_back(T&& item) {
    if (!getters_.empty()) {
      getters_.front()->item_.emplace(std::move(item));
      ++in_transit_;
      getters_.grant_front();
    } else {
      items_.give_back(std::move(item));
    }
  }
  T take() {
    T v = items_.pop();
    make_room();
    return v;
  }
  /// Room was made: reserve the free slots for the waiting putters, in order.
  void make_room() noexcept {
    while (!putters_.empty() && !full()) {
      putters_.front()->reserved_ = true;
      ++reserved_;
      putters_.grant_front();
    }
  }

  Storage items_;
  waiter_list<get_operation> getters_;
  waiter_list<put_operation> putters_;
  event finished_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  std::size_t in_transit_ = 0;  // items handed to getters that have not resumed yet
  std::size_t reserved_ = 0;    // slots granted to putters that have not resumed yet
  bool shut_down_ = false;
  bool immediate_ = false;
};

template <class T, class Storage>
class basic_queue<T, Storage>::put_operation : public waiter {
 public:
  put_operation(basic_queue& q, T&& item) : queue_(&q), item_(std::move(item)) {}
  // Moved only before the await starts (see lock::acquire_operation).
  put_operation(put_operation&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : put_operation(*o.queue_, std::move(o.item_)) {}
  ~put_operation() { waiter_list<put_operation>::remove(this); }

  // Room (or shut down): finish without suspending.
  bool await_ready() {
    if (queue_->shut_down_) return true;
    if (queue_->full()) return false;
    queue_->deliver(std::move(item_));
    done_ = true;
    return true;
  }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    queue_->putters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::queue::put (the queue is full)">);
  }
  // Put the item into the slot reserved for us, or throw.
  void await_resume() {
    if (done_) return;
    if (state == status::cancelled) task_context::throw_cancelled();
    if (reserved_) {
      --queue_->reserved_;
      if (cancel_pending() || queue_->shut_down_) {
        queue_->make_room();  // the slot passes to the next putter
        context->throw_if_cancel_pending();
        throw queue_shut_down{};
      }
      queue_->deliver(std::move(item_));
      return;
    }
    // Woken by shutdown(), or found the queue shut down.
    if (context != nullptr) context->throw_if_cancel_pending();
    throw queue_shut_down{};
  }

 private:
  friend class basic_queue;
  basic_queue* queue_;
  T item_;
  bool done_ = false;
  bool reserved_ = false;
};

template <class T, class Storage>
class basic_queue<T, Storage>::get_operation : public waiter {
 public:
  explicit get_operation(basic_queue& q) noexcept : queue_(&q) {}
  // Moved only before the await starts (see lock::acquire_operation).
  get_operation(get_operation&& o) noexcept : get_operation(*o.queue_) {}
  ~get_operation() { waiter_list<get_operation>::remove(this); }

  // An item (or a shut-down empty queue): finish without suspending.
  bool await_ready() {
    if (queue_->items_.size() > 0) {
      item_.emplace(queue_->take());
      return true;
    }
    return queue_->shut_down_;
  }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    queue_->getters_.push_back(this);
    suspend(h, detail::suspension_ops_for<&cancel_waiting, "aio::queue::get (the queue is empty)">);
  }
  // The item handed to us, or an error (giving a handed item back first).
  T await_resume() {
    if (context == nullptr) {  // did not suspend
      if (item_) return std::move(*item_);
      throw queue_shut_down{};
    }
    if (state == status::cancelled) task_context::throw_cancelled();
    if (item_) {
      if (queue_->immediate_) {
        // Handed to us before an immediate shutdown, which dropped it.
        item_.reset();
        context->throw_if_cancel_pending();
        throw queue_shut_down{};
      }
      --queue_->in_transit_;
      if (cancel_pending()) {
        queue_->give_back(std::move(*item_));
        item_.reset();
        context->throw_if_cancel_pending();
      }
      queue_->make_room();
      return std::move(*item_);
    }
    // Woken by shutdown().
    context->throw_if_cancel_pending();
    throw queue_shut_down{};
  }

 private:
  friend class basic_queue;
  basic_queue* queue_;
  std::optional<T> item_;
};

}  // namespace detail

/// asyncio.Queue: first in, first out. maxsize 0 means unbounded. A bounded
/// queue is a ring buffer: put and get do not allocate once it has filled once.
/// Example: examples/11_queues.cpp
template <class T>
class queue : public detail::basic_queue<T, detail::fifo_storage<T>> {
 public:
  using detail::basic_queue<T, detail::fifo_storage<T>>::basic_queue;
};

/// asyncio.PriorityQueue: the smallest item (by Compare) first, as heapq —
/// the opposite of std::priority_queue. Items are often std::pair / std::tuple
/// of (priority, payload).
template <class T, class Compare = std::less<T>>
class priority_queue : public detail::basic_queue<T, detail::heap_storage<T, Compare>> {
 public:
  using detail::basic_queue<T, detail::heap_storage<T, Compare>>::basic_queue;
};

/// asyncio.LifoQueue: last in, first out.
template <class T>
class lifo_queue : public detail::basic_queue<T, detail::lifo_storage<T>> {
 public:
  using detail::basic_queue<T, detail::lifo_storage<T>>::basic_queue;
};

}  // namespace aio
