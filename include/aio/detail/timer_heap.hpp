// The loop's timers: a binary min-heap of nodes that live inside the awaiting
// coroutine's frame (so a sleep allocates nothing). Each node knows its heap
// index, so cancelling a timer is an O(log n) removal. Ties on the deadline are
// broken by arming order, so equal deadlines fire FIFO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aio::detail {

struct timer_node {
  static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);
  std::int64_t deadline = 0;  // nanoseconds on the loop's clock
  std::uint64_t sequence = 0;
  std::size_t index = not_armed;
  /// Called when the deadline passes, while the loop moves due timers to its
  /// ready queue. It must only schedule work, never run it.
  void (*expire)(timer_node*) noexcept = nullptr;
  [[nodiscard]] bool armed() const noexcept { return index != not_armed; }
};

class timer_heap {
 public:
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] timer_node* top() const noexcept { return heap_.front(); }

  void push(timer_node* n) {
    n->sequence = next_sequence_++;
    n->index = heap_.size();
    heap_.push_back(n);
    sift_up(n->index);
  }

  timer_node* pop() noexcept {
    timer_node* n = heap_.front();
    remove(n);
    return n;
  }

  void remove(timer_node* n) noexcept {
    const std::size_t i = n->index;
    timer_node* last = heap_.back();
    heap_.pop_back();
    n->index = timer_node::not_armed;
    if (last != n) {
      heap_[i] = last;
      last->index = i;
      if (i > 0 && less(last, heap_[(i - 1) / 2])) sift_up(i);
      else sift_down(i);
    }
  }

  template <class F>
  void for_each(F&& f) const {
    for (auto* n : heap_) f(n);
  }

 private:
  static bool less(const timer_node* a, const timer_node* b) noexcept {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->sequence < b->sequence);
  }
  void place(std::size_t i, timer_node* n) noexcept {
    heap_[i] = n;
    n->index = i;
  }
  void sift_up(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!less(n, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, n);
  }
  void sift_down(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    const std::size_t count = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= count) break;
      if (child + 1 < count && less(heap_[child + 1], heap_[child])) ++child;
      if (!less(heap_[child], n)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, n);
  }

  std::vector<timer_node*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace aio::detail
