// Per-thread recycling allocator for coroutine frames.
//
// Creating a task is dominated by allocating its frame, and frames come in a
// handful of sizes, so memory is kept per thread and per size class (8-byte
// steps) and handed out again without touching malloc. Frames take 16-byte
// steps (the compiler expects new's 16-byte alignment for them); objects of
// the library's own that need no more than 8 (a task's state) fit to 8
// bytes, in classes of their own (see pool_class). Two tiers:
//
// - A spare (the last frame freed) and a LIFO list per class, the hot path:
//   a frame freed and allocated again at once (awaiting a child coroutine in
//   a loop) costs a load and a store each way. A free goes on the list when
//   it lies next to the previous free of its class (within `near` bytes): the
//   same frame again, or tasks finishing in the order they were made. The
//   list then stays in address order, however long it gets.
// - Behind it, 64 KiB single-class slabs with a bitmap of free blocks, which
//   take every other free and hand blocks out lowest address first. Tasks
//   finish in an order unrelated to where their frames lie (timers, locks),
//   and a list refilled by a hundred thousand such frees would give the next
//   hundred thousand frames in that scattered order: every access a cache and
//   TLB miss, three times slower than walking memory in order (sleep_timers:
//   15 ms vs 5 ms to start 100,000 tasks). The slabs give them back in
//   address order.
//
// Slabs also save malloc's per-block header (it matters for memory_tasks).
// Memory is reused by the thread, never returned to the system (see
// src/frame_allocator.cpp). A frame freed on another thread than the one
// whose slab holds it goes onto the freeing thread's list, which is private
// to that thread: a slab's bitmap is only ever touched by its owner.
// Under AddressSanitizer the pool is bypassed so that use-after-free of a
// frame is still caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define AIO_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIO_FRAME_POOL 0
#endif
#endif
#ifndef AIO_FRAME_POOL
#define AIO_FRAME_POOL 1
#endif

namespace aio::detail {

struct frame_free_lists {
  static constexpr std::size_t granularity = 8;
  /// Frames and the library's own objects have separate classes (see
  /// pool_class), 128 each: blocks up to 1 KiB are pooled.
  static constexpr std::size_t classes_per_family = 128;
  static constexpr std::size_t classes = 2 * classes_per_family;
  static constexpr std::size_t smallest_block = 16;
  static constexpr std::uintptr_t near = 1024;  // bytes from the previous free that count as "in order"
  struct node { node* next; };
  /// Free blocks taken from a slab, one bitmap word at a time: bit i set means
  /// base + i * block size is free. Handed out lowest first.
  struct run {
    char* base;
    std::uint64_t bits;
  };
  void* spares[classes];  // the last frame freed: a child coroutine awaited in a loop reuses it
  void* last_freed[classes];  // the previous free, to tell ordered frees from scattered ones
  node* heads[classes];
  run runs[classes];
};

// Trivially constructible, so access is a plain TLS load with no init guard.
inline thread_local frame_free_lists frame_lists_tls{};

inline void push_free(frame_free_lists& lists, std::size_t c, void* p) noexcept {
  auto* n = static_cast<frame_free_lists::node*>(p);
  n->next = lists.heads[c];
  lists.heads[c] = n;
}

// src/frame_allocator.cpp: the slab tier. frame_refill is called when the
// class's list and run are both empty.
void* frame_refill(std::size_t size_class);
void frame_release(void* p, std::size_t size_class) noexcept;

/// The size class of a block of `size` bytes aligned to `alignment` (8 or
/// 16), or `classes` if it is too big to pool. Frames (16) round up to 16
/// bytes and take the classes from 0; the objects that need only 8 (task
/// states) fit to 8 bytes and take the classes from 128: the two never share
/// a free list. When they did (an 80-byte task state beside 80-byte frames),
/// frames and states freed in turn made each list look scattered to
/// pool_deallocate, and spawn_gather went from 44 to 74 ns a task.
constexpr std::size_t pool_class(std::size_t size, std::size_t alignment) noexcept {
  if (size < frame_free_lists::smallest_block) size = frame_free_lists::smallest_block;
  std::size_t eights = (size + frame_free_lists::granularity - 1) / frame_free_lists::granularity;
  if (alignment > frame_free_lists::granularity) eights = (eights + 1) / 2 * 2;
  if (eights >= frame_free_lists::classes_per_family) return frame_free_lists::classes;
  return alignment > frame_free_lists::granularity ? eights : frame_free_lists::classes_per_family + eights;
}
/// The size of the blocks of class `c`.
constexpr std::size_t block_size(std::size_t c) noexcept {
  return c % frame_free_lists::classes_per_family * frame_free_lists::granularity;
}

/// A block of `size` bytes aligned to `alignment` (at most 16) from the pool,
/// or from operator new if it is larger than the pool's blocks.
inline void* pool_allocate(std::size_t size, std::size_t alignment) {
#if AIO_FRAME_POOL
  const std::size_t c = pool_class(size, alignment);
  if (c < frame_free_lists::classes) [[likely]] {
    auto& lists = frame_lists_tls;
    if (void* spare = lists.spares[c]) {
      lists.spares[c] = nullptr;
      return spare;
    }
    if (auto* n = lists.heads[c]) [[likely]] {
      lists.heads[c] = n->next;
      return n;
    }
    if (auto& r = lists.runs[c]; r.bits != 0) {
      const auto i = static_cast<std::size_t>(__builtin_ctzll(r.bits));
      r.bits &= r.bits - 1;
      return r.base + i * block_size(c);
    }
    return frame_refill(c);
  }
#endif
  (void)alignment;
  return ::operator new(size);
}

inline void pool_deallocate(void* p, std::size_t size, std::size_t alignment) noexcept {
#if AIO_FRAME_POOL
  const std::size_t c = pool_class(size, alignment);
  if (c < frame_free_lists::classes) [[likely]] {
    auto& lists = frame_lists_tls;
    if (lists.spares[c] == nullptr) {
      lists.spares[c] = p;
      return;
    }
    // A block freed next to the one freed before it (the same frame again, as
    // when a child is awaited in a loop, or tasks finishing in the order they
    // were made) goes on the list, which stays in address order that way and
    // is the cheapest way back; scattered frees go to their slabs.
    const std::uintptr_t step = reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(lists.last_freed[c]);
    lists.last_freed[c] = p;
    if (step + frame_free_lists::near < 2 * frame_free_lists::near) {
      push_free(lists, c, p);
      return;
    }
    frame_release(p, c);
    return;
  }
#endif
  (void)size;
  (void)alignment;
  ::operator delete(p);  // unsized: clang needs -fsized-deallocation for the other
}

// A coroutine frame has the alignment of operator new (16 bytes).
inline void* frame_allocate(std::size_t size) { return pool_allocate(size, 16); }
inline void frame_deallocate(void* p, std::size_t size) noexcept { pool_deallocate(p, size, 16); }

/// Gives allocation through the frame pool to a class (coroutine promises, and
/// future states, which are created as often as frames), with operator new's
/// alignment. A task's state fits its blocks to 8 bytes instead (task_state.hpp).
struct pooled {
  static void* operator new(std::size_t n) { return frame_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }
};

}  // namespace aio::detail
