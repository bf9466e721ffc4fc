// The loop's ready queue: a growable ring of 8-byte entries, so
// that scheduling a coroutine or a callback never allocates once the ring has
// reached the program's high-water mark.
#pragma once

#include <aio/detail/trivial_ring.hpp>

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
  [[nodiscard]] bool empty() const noexcept { return ring_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return ring_.size(); }

  void push(ready_entry e) { ring_.push_back(e); }
  ready_entry pop() noexcept { return ring_.pop_front(); }
  /// Where the next push goes, and where the next pop comes from: positions
  /// that only ever grow.
  [[nodiscard]] std::uint64_t back_position() const noexcept { return ring_.back_position(); }
  [[nodiscard]] std::uint64_t front_position() const noexcept { return ring_.front_position(); }
  /// The entry `ahead` places behind the front (which must exist).
  [[nodiscard]] const ready_entry& entry_ahead(std::size_t ahead) const noexcept { return ring_[ahead]; }

 private:
  trivial_ring<ready_entry> ring_;
};

}  // namespace aio::detail
