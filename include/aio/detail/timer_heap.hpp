// The loop's timers: a 4-ary min-heap of {deadline, sequence, slot} entries.
//
// The timer nodes live inside the awaiting coroutines' frames (a sleep
// allocates nothing), but the heap never reads or writes them while it sifts:
// with a hundred thousand sleeping tasks those frames are out of the caches,
// and a heap of pointers to them missed once per level on every pop (about
// half of sleep_timers' time). So each entry carries its own key, and a node
// is found through a slot number it keeps for as long as it is armed:
// `slots_[slot]` is the node. Four children per node halve the depth, and the
// four sit side by side.
//
// A cancelled timer is not searched for: its slot is emptied and its entry
// left where it is, to be dropped when it reaches the top, as asyncio does
// with its TimerHandles. So a cancel is O(1) and a sift writes nothing but
// entries (no table of positions to keep up: 4 bytes a timer). When the
// cancelled entries outnumber the live ones (say, wait_for's 30 s timeouts
// cancelled by work that took a millisecond), the heap is rebuilt from the
// live ones, so it never holds much more than twice them.
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
  /// No armed timer (cancelled ones may still wait in the heap to be dropped).
  [[nodiscard]] bool empty() const noexcept { return live_ == 0; }
  /// The number of armed timers.
  [[nodiscard]] std::size_t size() const noexcept { return live_; }
  /// The earliest deadline of an armed timer; the heap must not be empty.
  [[nodiscard]] std::int64_t top_deadline() noexcept {
    drop_cancelled_top();
    return heap_.front().deadline;
  }

  /// Arms `n` to expire at `deadline` (nanoseconds on the loop's clock).
  void push(timer_node* n, std::int64_t deadline) {
    std::uint32_t s = free_slot_;
    if (s != none) {
      free_slot_ = next_free(s);
      slots_[s] = n;
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(n);
    }
    n->slot = s;
    heap_.push_back({deadline, next_sequence_++, s});
    sift_up(heap_.size() - 1);
    ++live_;
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
    drop_cancelled_top();
    const std::uint32_t s = heap_.front().slot;
    timer_node* n = node_in(s);
    free_slot(s);
    erase_top();
    --live_;
    return n;
  }
  static void mark_popped(timer_node* n) noexcept { n->slot = timer_node::not_armed; }

  /// Disarms `n` (armed): O(1), its entry stays behind until it is dropped.
  void remove(timer_node* n) noexcept {
    slots_[n->slot] = nullptr;
    mark_popped(n);
    --live_;
    ++cancelled_;
    if (live_ == 0) forget_all();
    else if (cancelled_ > live_ && cancelled_ >= rebuild_threshold) rebuild();
  }

  template <class F>
  void for_each(F&& f) const {
    for (const entry& e : heap_)
      if (timer_node* n = node_in(e.slot)) f(n);
  }

 private:
  static constexpr std::uint32_t none = UINT32_MAX;
  static constexpr std::size_t arity = 4;
  /// Below this many cancelled entries a rebuild is not worth its O(n).
  static constexpr std::size_t rebuild_threshold = 1024;

  struct entry {
    std::int64_t deadline;
    std::uint32_t sequence;
    std::uint32_t slot;
  };
  static bool less(const entry& a, const entry& b) noexcept {
    return a.deadline < b.deadline ||
           (a.deadline == b.deadline && static_cast<std::int32_t>(a.sequence - b.sequence) < 0);
  }

  // A slot holds its armed node; null once the node was cancelled (its entry
  // is still in the heap); or, while free, the next free slot, tagged with
  // the low bit (nodes are aligned, so a node pointer never has it).
  [[nodiscard]] timer_node* node_in(std::uint32_t s) const noexcept {
    return static_cast<timer_node*>(slots_[s]);
  }
  [[nodiscard]] std::uint32_t next_free(std::uint32_t s) const noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(slots_[s]) >> 1);
  }
  void free_slot(std::uint32_t s) noexcept {
    slots_[s] = reinterpret_cast<void*>((std::uintptr_t{free_slot_} << 1) | 1);
    free_slot_ = s;
  }

  void drop_cancelled_top() noexcept {
    while (node_in(heap_.front().slot) == nullptr) {
      free_slot(heap_.front().slot);
      erase_top();
      --cancelled_;
    }
  }
  void erase_top() noexcept {
    const entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0, last);
  }
  /// Every armed timer was cancelled: all slots are free again.
  void forget_all() noexcept {
    heap_.clear();
    slots_.clear();
    free_slot_ = none;
    cancelled_ = 0;
  }
  /// Keeps the live entries only, and makes them a heap again (Floyd, O(n)).
  void rebuild() noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < heap_.size(); ++i) {
      if (node_in(heap_[i].slot) != nullptr) heap_[kept++] = heap_[i];
      else free_slot(heap_[i].slot);
    }
    heap_.shrink_to(kept);
    cancelled_ = 0;
    for (std::size_t i = kept / arity + 1; i-- > 0;)
      if (i < kept) sift_down(i, heap_[i]);
  }

  void sift_up(std::size_t i) noexcept {
    const entry e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / arity;
      if (!less(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  /// Places `e` at `i` or below, moving smaller children up.
  void sift_down(std::size_t i, const entry e) noexcept {
    const std::size_t count = heap_.size();
    for (;;) {
      const std::size_t first = arity * i + 1;
      if (first >= count) break;
      const std::size_t end = first + arity < count ? first + arity : count;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c)
        if (less(heap_[c], heap_[best])) best = c;
      if (!less(heap_[best], e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  trivial_array<entry> heap_;
  trivial_array<void*> slots_;  // by slot: see node_in
  std::uint32_t free_slot_ = none;
  std::uint32_t next_sequence_ = 0;
  std::size_t live_ = 0;
  std::size_t cancelled_ = 0;  // entries in heap_ whose timer was cancelled
};

}  // namespace aio::detail
