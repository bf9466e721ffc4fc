#include <aio/detail/frame_allocator.hpp>

#include <cstdlib>

namespace aio::detail {
namespace {

constexpr std::size_t slab_bytes = 64 * 1024;

// Slabs are kept for the thread's lifetime and chained through their first
// word, so the state stays trivially destructible: a frame freed by a static
// destructor after the thread's TLS destructors ran must still have a valid
// list to go to. Memory is reused, never returned; a thread that exits keeps
// its slabs (bounded by its peak number of live frames).
struct slab_cursor {
  void* slabs;
  char* cursor;
  std::size_t left;
};
thread_local slab_cursor slab_tls{};

}  // namespace

void* frame_refill(std::size_t size_class) {
  const std::size_t bytes = size_class * frame_free_lists::granularity;
  auto& s = slab_tls;
  if (s.left < bytes) {
    auto* slab = static_cast<char*>(std::malloc(slab_bytes));
    if (!slab) throw std::bad_alloc();
    *reinterpret_cast<void**>(slab) = s.slabs;
    s.slabs = slab;
    s.cursor = slab + frame_free_lists::granularity;
    s.left = slab_bytes - frame_free_lists::granularity;
  }
  void* p = s.cursor;
  s.cursor += bytes;
  s.left -= bytes;
  return p;
}

}  // namespace aio::detail
