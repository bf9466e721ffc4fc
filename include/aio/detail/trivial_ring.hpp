// A growable ring (a deque on one block) of trivially copyable elements,
// grown in place with realloc: the storage of the loop's ready queue and of
// the timer queue's runs.
//
// Every element has a position that never changes while it is in the ring
// (front positions only grow as elements leave, or shrink by one with
// push_front): the element at position p sits at p & mask. Growing doubles
// the block (trivial_array: realloc, so a big ring is not copied) and widens
// the mask by one bit; the elements whose position has that bit set move up
// by the old capacity.
#pragma once

#include <aio/detail/trivial_array.hpp>

#include <cstddef>
#include <algorithm>
#include <cstdint>

namespace aio::detail {

template <class T>
class trivial_ring {
 public:
  trivial_ring() noexcept = default;
  trivial_ring(trivial_ring&&) noexcept = default;
  trivial_ring& operator=(trivial_ring&&) noexcept = default;

  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(tail_ - head_); }

  /// Where the next push_back goes, and where the front is.
  [[nodiscard]] std::uint64_t back_position() const noexcept { return tail_; }
  [[nodiscard]] std::uint64_t front_position() const noexcept { return head_; }

  /// The element `i` places behind the front (i < size()).
  T& operator[](std::size_t i) noexcept { return block_[(head_ + i) & mask_]; }
  const T& operator[](std::size_t i) const noexcept { return block_[(head_ + i) & mask_]; }
  T& front() noexcept { return block_[head_ & mask_]; }
  const T& front() const noexcept { return block_[head_ & mask_]; }
  const T& back() const noexcept { return block_[(tail_ - 1) & mask_]; }

  void push_back(const T& v) {
    if (size() == block_.size()) [[unlikely]] grow();
    block_[tail_++ & mask_] = v;
  }
  void push_front(const T& v) {
    if (size() == block_.size()) [[unlikely]] grow();
    block_[--head_ & mask_] = v;
  }
  T pop_front() noexcept { return block_[head_++ & mask_]; }
  void clear() noexcept { head_ = tail_; }

  /// Gives back at least half of the block, if the elements fit in that and
  /// the block is big (trivial_array::big_block), so that a ring emptied by a
  /// mass cancellation returns its memory. In place: the elements are
  /// rotated to the start of the block, which realloc then shortens (no
  /// second block, so the process's peak does not grow on the way down).
  /// Positions start again at 0: only for rings whose positions nobody
  /// keeps (the timer queue's runs).
  void release_unused_room() noexcept {
    const std::size_t cap = block_.size();
    std::size_t fit = initial_capacity;
    while (fit < size()) fit *= 2;
    if (cap * sizeof(T) < trivial_array<T>::big_block || 2 * fit > cap) return;
    const std::size_t n = size();
    std::rotate(block_.begin(), block_.begin() + (head_ & mask_), block_.end());
    block_.shrink_capacity_to(fit);
    mask_ = fit - 1;
    head_ = 0;
    tail_ = n;
  }

 private:
  static constexpr std::size_t initial_capacity = 64;
  void grow() {
    const std::size_t cap = block_.size();
    if (cap == 0) {
      block_.grow_to(initial_capacity);
      mask_ = initial_capacity - 1;
      return;
    }
    block_.grow_to(2 * cap);
    for (std::uint64_t p = head_; p != tail_; ++p)
      if ((p & cap) != 0) block_[(p & mask_) + cap] = block_[p & mask_];
    mask_ = 2 * cap - 1;
  }

  trivial_array<T> block_;  // all of it is room: its size is the capacity
  std::size_t mask_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
};

}  // namespace aio::detail
