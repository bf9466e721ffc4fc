// The loop's ready queue: a growable ring of 8-byte entries, so
// that scheduling a coroutine or a callback never allocates once the ring has
// reached the program's high-water mark.
#pragma once

#include <aio/detail/trivial_array.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace aio::detail {

struct task_context;

/// One piece of work on the ready queue, in 8 bytes: a pointer whose low bits
/// (free, as everything it points to is 8-byte aligned) say what to do with
/// it. There are only three kinds of work, and with a million tasks woken at
/// once (cancelling them) a 16-byte {function, argument} pair cost 8 MB more.
class ready_entry {
 public:
  enum class kind : std::uintptr_t {
    resume = 0,    // a coroutine frame: resume it
    start = 1,     // a task_context: task_context::start
    callback = 2,  // a callback_node (call_soon / call_later; src/event_loop.cpp)
  };
  ready_entry() noexcept = default;
  static ready_entry resume(std::coroutine_handle<> h) noexcept { return {h.address(), kind::resume}; }
  static ready_entry start(task_context* t) noexcept { return {t, kind::start}; }
  static ready_entry callback(void* node) noexcept { return {node, kind::callback}; }

  [[nodiscard]] kind what() const noexcept { return static_cast<kind>(bits_ & tag_mask); }
  [[nodiscard]] void* pointer() const noexcept { return reinterpret_cast<void*>(bits_ & ~tag_mask); }

 private:
  static constexpr std::uintptr_t tag_mask = 7;
  ready_entry(void* p, kind k) noexcept : bits_(reinterpret_cast<std::uintptr_t>(p) | static_cast<std::uintptr_t>(k)) {}
  std::uintptr_t bits_ = 0;
};

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
  /// Where the next push goes, and where the next pop comes from: positions
  /// that only ever grow.
  [[nodiscard]] std::uint64_t back_position() const noexcept { return tail_; }
  [[nodiscard]] std::uint64_t front_position() const noexcept { return head_; }
  /// The entry `ahead` places behind the front (which must exist).
  [[nodiscard]] const ready_entry& entry_ahead(std::size_t ahead) const noexcept { return ring_[(head_ + ahead) & mask_]; }

 private:
  static constexpr std::size_t initial_capacity = 1024;
  // The entry at position p sits at p & mask. Doubling the block in place
  // (trivial_array: realloc, so a big ring is not copied) makes the mask one
  // bit wider: the entries whose position has that bit set move up by the old
  // capacity, and every position stays what it was.
  void grow() {
    const std::size_t cap = mask_ + 1;
    ring_.grow_to(2 * cap);
    for (std::uint64_t p = head_; p != tail_; ++p)
      if ((p & cap) != 0) ring_[(p & mask_) + cap] = ring_[p & mask_];
    mask_ = 2 * cap - 1;
  }

  trivial_array<ready_entry> ring_;
  std::size_t mask_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
};

}  // namespace aio::detail
