// The loop's timers: a 4-ary min-heap of {deadline, sequence, slot} entries.
//
// The timer nodes live inside the awaiting coroutines' frames (a sleep
// allocates nothing), but the heap never reads or writes them while it sifts:
// with a hundred thousand sleeping tasks those frames are out of the caches,
// and a heap of pointers to them missed once per level on every pop (about
// half of sleep_timers' time). So each entry carries its own key, and a node
// is found through a slot number it keeps for as long as it is armed:
// `nodes_[slot]` is the node, `position_[slot]` its entry, the only thing a
// sift has to update besides the entries. Four children per node halve the
// depth, and the four sit side by side.
//
// Ties on the deadline are broken by arming order, so equal deadlines fire
// FIFO. The sequence is 32 bits compared modulo 2^32: two timers with the very
// same nanosecond deadline armed more than 2^31 arms apart would swap; nothing
// else depends on it.
#pragma once

#include <aio/detail/trivial_array.hpp>

#include <cstddef>
#include <cstdint>

namespace aio::detail {

/// A timer, armed with its deadline (the heap keeps the deadline; a node
/// that needs it later keeps its own copy).
struct timer_node {
  static constexpr std::uint32_t not_armed = UINT32_MAX;
  /// Called when the deadline passes, while the loop moves due timers to its
  /// ready queue. It must only schedule work, never run it.
  void (*expire)(timer_node*) noexcept = nullptr;
  std::uint32_t slot = not_armed;  // the heap's handle on this node while armed
  [[nodiscard]] bool armed() const noexcept { return slot != not_armed; }
};

class timer_heap {
 public:
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  /// The earliest deadline; the heap must not be empty.
  [[nodiscard]] std::int64_t top_deadline() const noexcept { return heap_.front().deadline; }

  /// Arms `n` to expire at `deadline` (nanoseconds on the loop's clock).
  void push(timer_node* n, std::int64_t deadline) {
    std::uint32_t s = free_slot_;
    if (s != none) {
      free_slot_ = position_[s];
      nodes_[s] = n;
    } else {
      s = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(n);
      position_.push_back(0);
    }
    n->slot = s;
    heap_.push_back({deadline, next_sequence_++, s});
    sift_up(heap_.size() - 1);
  }

  /// Removes and returns the earliest timer; the heap must not be empty.
  timer_node* pop() noexcept {
    timer_node* n = pop_unmarked();
    mark_popped(n);
    return n;
  }
  /// pop() without writing to the node, which is likely out of the caches:
  /// the loop pops a batch of due timers, prefetches their nodes, then marks
  /// them with mark_popped() before anything else can see them.
  timer_node* pop_unmarked() noexcept {
    timer_node* n = nodes_[heap_.front().slot];
    erase_at(0);
    return n;
  }
  static void mark_popped(timer_node* n) noexcept { n->slot = timer_node::not_armed; }

  void remove(timer_node* n) noexcept {
    erase_at(position_[n->slot]);
    mark_popped(n);
  }

  template <class F>
  void for_each(F&& f) const {
    for (const entry& e : heap_) f(nodes_[e.slot]);
  }

 private:
  static constexpr std::uint32_t none = UINT32_MAX;
  static constexpr std::size_t arity = 4;

  struct entry {
    std::int64_t deadline;
    std::uint32_t sequence;
    std::uint32_t slot;
  };
  static bool less(const entry& a, const entry& b) noexcept {
    return a.deadline < b.deadline ||
           (a.deadline == b.deadline && static_cast<std::int32_t>(a.sequence - b.sequence) < 0);
  }

  void erase_at(std::size_t i) noexcept {
    const std::uint32_t s = heap_[i].slot;
    position_[s] = free_slot_;
    free_slot_ = s;
    const entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    heap_[i] = last;
    if (i > 0 && less(last, heap_[(i - 1) / arity])) sift_up(i);
    else sift_down(i);
  }
  void place(std::size_t i, const entry& e) noexcept {
    heap_[i] = e;
    position_[e.slot] = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i) noexcept {
    const entry e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / arity;
      if (!less(e, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, e);
  }
  void sift_down(std::size_t i) noexcept {
    const entry e = heap_[i];
    const std::size_t count = heap_.size();
    for (;;) {
      const std::size_t first = arity * i + 1;
      if (first >= count) break;
      const std::size_t end = first + arity < count ? first + arity : count;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c)
        if (less(heap_[c], heap_[best])) best = c;
      if (!less(heap_[best], e)) break;
      place(i, heap_[best]);
      i = best;
    }
    place(i, e);
  }

  trivial_array<entry> heap_;
  trivial_array<timer_node*> nodes_;       // by slot
  trivial_array<std::uint32_t> position_;  // by slot: the entry's index, or the next free slot
  std::uint32_t free_slot_ = none;
  std::uint32_t next_sequence_ = 0;
};

}  // namespace aio::detail
