// The three orders of asyncio's queues, as storage policies of basic_queue:
// push (put), pop (get), and give_back — where an item returns when the getter
// it was handed to is cancelled before it ran: to the place it was taken
// from, so that it is the next one out again.
#pragma once

#include <aio/detail/ring_buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace aio::detail {

// Where a given-back item goes, for the FIFO and LIFO orders: an item is
// handed to a getter only while the queue is empty, so everything stored since
// arrived after it — and items handed out earlier are older still. It goes
// back in front of (FIFO) / beneath (LIFO) everything stored since, behind the
// items given back before it: exactly where asyncio, whose woken getter never
// took the item out, would still have it. `returned_` counts the given-back
// items at the front of the ring.

/// asyncio.Queue: first in, first out.
template <class T>
class fifo_storage {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return ring_.size(); }
  void push(T&& v) { ring_.push_back(std::move(v)); }
  T pop() {
    if (returned_ > 0) --returned_;
    return ring_.pop_front();
  }
  void give_back(T&& v) { ring_.insert(returned_++, std::move(v)); }
  void clear() noexcept {
    ring_.clear();
    returned_ = 0;
  }

 private:
  ring_buffer<T> ring_;
  std::size_t returned_ = 0;
};

/// asyncio.LifoQueue: last in, first out (the ring's back is the top).
template <class T>
class lifo_storage {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return ring_.size(); }
  void push(T&& v) { ring_.push_back(std::move(v)); }
  T pop() {
    T v = ring_.pop_back();
    if (returned_ > ring_.size()) returned_ = ring_.size();
    return v;
  }
  void give_back(T&& v) { ring_.insert(returned_++, std::move(v)); }
  void clear() noexcept {
    ring_.clear();
    returned_ = 0;
  }

 private:
  ring_buffer<T> ring_;
  std::size_t returned_ = 0;
};

/// asyncio.PriorityQueue: smallest first (heapq's order), where "smaller" is
/// `Compare` — unlike std::priority_queue, which gives the largest first.
template <class T, class Compare>
class heap_storage {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  void push(T&& v) {
    heap_.push_back(std::move(v));
    std::push_heap(heap_.begin(), heap_.end(), later{&compare_});
  }
  T pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later{&compare_});
    T v = std::move(heap_.back());
    heap_.pop_back();
    return v;
  }
  void give_back(T&& v) { push(std::move(v)); }
  void clear() noexcept { heap_.clear(); }

 private:
  // std's heap keeps the greatest first; reversing the comparison keeps the smallest.
  struct later {
    Compare* c;
    bool operator()(const T& a, const T& b) const { return (*c)(b, a); }
  };
  std::vector<T> heap_;
  [[no_unique_address]] Compare compare_{};
};

}  // namespace aio::detail
