// The loop's ready queue: a growable ring of {function, argument} entries, so
// that scheduling a coroutine or a callback never allocates once the ring has
// reached the program's high-water mark.
#pragma once

#include <aio/detail/trivial_array.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace aio::detail {

struct ready_entry {
  void (*run)(void*) noexcept;
  void* arg;
};

inline void resume_coroutine(void* address) noexcept {
  std::coroutine_handle<>::from_address(address).resume();
}

class ready_queue {
 public:
  ready_queue() {
    ring_.grow_to(initial_capacity);
    mask_ = initial_capacity - 1;
  }

  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(tail_ - head_); }

  void push(ready_entry e) {
    if (size() == mask_ + 1) [[unlikely]] grow();
    ring_[tail_++ & mask_] = e;
  }
  ready_entry pop() noexcept { return ring_[head_++ & mask_]; }
  /// The entry `ahead` places behind the front (which must exist).
  [[nodiscard]] const ready_entry& entry_ahead(std::size_t ahead) const noexcept { return ring_[(head_ + ahead) & mask_]; }

 private:
  static constexpr std::size_t initial_capacity = 1024;
  // Full: the entries run from the front's index to the end of the block, then
  // from its start. Doubling the block in place (trivial_array: realloc, so a
  // big ring is not copied) and moving that start part behind the end makes
  // them contiguous again.
  void grow() {
    const std::size_t cap = mask_ + 1;
    const std::size_t front = head_ & mask_;
    ring_.grow_to(2 * cap);
    for (std::size_t i = 0; i < front; ++i) ring_[cap + i] = ring_[i];
    mask_ = 2 * cap - 1;
    head_ = front;
    tail_ = front + cap;
  }

  trivial_array<ready_entry> ring_;
  std::size_t mask_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
};

}  // namespace aio::detail
