// Per-thread recycling allocator for coroutine frames.
//
// Creating a task is dominated by allocating its frame, and frames come in a
// handful of sizes, so freed frames go onto a per-thread free list by size class
// (16-byte steps) and are handed out again without touching malloc. Fresh frames
// are carved from 64 KiB slabs, which also saves malloc's per-block header (it
// matters for memory_tasks: a sleeping task is ~200 bytes). Memory is reused by
// the thread, never returned to the system (see src/frame_allocator.cpp).
//
// A frame freed on another thread lands on that thread's list: harmless, since
// every list is private to its thread. Under AddressSanitizer the pool is
// bypassed so that use-after-free of a frame is still caught.
#pragma once

#include <cstddef>
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
  static constexpr std::size_t granularity = 16;
  static constexpr std::size_t classes = 64;  // frames up to 1 KiB are pooled
  struct node { node* next; };
  node* heads[classes];
};

// Trivially constructible, so access is a plain TLS load with no init guard.
inline thread_local frame_free_lists frame_lists_tls{};

void* frame_refill(std::size_t size_class);  // src/frame_allocator.cpp

inline void* frame_allocate(std::size_t size) {
#if AIO_FRAME_POOL
  const std::size_t c = (size + frame_free_lists::granularity - 1) / frame_free_lists::granularity;
  if (c < frame_free_lists::classes) [[likely]] {
    auto& head = frame_lists_tls.heads[c];
    if (auto* n = head) [[likely]] {
      head = n->next;
      return n;
    }
    return frame_refill(c);
  }
#endif
  return ::operator new(size);
}

inline void frame_deallocate(void* p, std::size_t size) noexcept {
#if AIO_FRAME_POOL
  const std::size_t c = (size + frame_free_lists::granularity - 1) / frame_free_lists::granularity;
  if (c < frame_free_lists::classes) [[likely]] {
    auto* n = static_cast<frame_free_lists::node*>(p);
    auto& head = frame_lists_tls.heads[c];
    n->next = head;
    head = n;
    return;
  }
#endif
  (void)size;
  ::operator delete(p);  // unsized: clang needs -fsized-deallocation for the other
}

/// Gives allocation through the frame pool to a class (coroutine promises and
/// the per-task state objects, which are created as often as frames).
struct pooled {
  static void* operator new(std::size_t n) { return frame_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }
};

}  // namespace aio::detail
