// The slab tier of the frame pool (see frame_allocator.hpp for why there is one).
#include <aio/detail/frame_allocator.hpp>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace aio::detail {
namespace {

constexpr std::size_t slab_bytes = 64 * 1024;
// Slabs are cut from 4 MiB reservations: untouched pages cost no memory, the
// slabs of a thread lie side by side, and there is no malloc header or
// alignment slack per slab.
constexpr std::size_t reservation_bytes = 4 * 1024 * 1024;
constexpr std::size_t bitmap_words = slab_bytes / frame_free_lists::smallest_block / 64;

// One size class per slab. The header sits at the start of the slab, which is
// aligned to its size, so a block finds its slab by masking its address.
struct slab {
  const void* owner;  // the owning thread's slab_state: only it touches free_bits
  slab* next_partial;
  std::uint32_t reciprocal;  // ceil(2^32 / block size): offset -> index without a division
  std::uint32_t free_count;
  std::uint32_t hint;  // no free block in a bitmap word below this one
  bool listed;         // the class's current slab, or on its partial stack
  std::uint64_t free_bits[bitmap_words];  // bit set: the block is free
};
// The first block starts on a cache line: blocks of 64 or 128 bytes never
// straddle two lines.
constexpr std::size_t cache_line = 64;
constexpr std::size_t header_bytes = (sizeof(slab) + cache_line - 1) / cache_line * cache_line;

// Trivially constructible and destructible, for the same reasons as the lists:
// a frame freed by a static destructor after the thread's TLS destructors ran
// must still find valid state. A thread that exits keeps its slabs (bounded by
// its peak number of live frames); a later thread may adopt them.
struct slab_state {
  slab* current[frame_free_lists::classes];  // where allocation continues
  slab* partial[frame_free_lists::classes];  // slabs with free blocks, besides current
  char* reserved;                            // the next slab of the reservation
  std::size_t reserved_left;
};
thread_local slab_state slabs_tls{};

/// Maps reservation_bytes aligned to slab_bytes (by mapping more and trimming).
char* reserve() {
  const std::size_t mapped = reservation_bytes + slab_bytes;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* start = static_cast<char*>(p);
  auto* aligned = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(start) + slab_bytes - 1) &
                                          ~(std::uintptr_t{slab_bytes} - 1));
  if (aligned != start) ::munmap(start, static_cast<std::size_t>(aligned - start));
  const std::size_t tail = mapped - static_cast<std::size_t>(aligned - start) - reservation_bytes;
  if (tail != 0) ::munmap(aligned + reservation_bytes, tail);
  return aligned;
}

slab* new_slab(std::size_t size_class) {
  auto& state = slabs_tls;
  if (state.reserved_left == 0) {
    state.reserved = reserve();
    state.reserved_left = reservation_bytes;
  }
  auto* s = reinterpret_cast<slab*>(state.reserved);
  state.reserved += slab_bytes;
  state.reserved_left -= slab_bytes;
  const auto block = static_cast<std::uint32_t>(block_size(size_class));
  const std::size_t capacity = (slab_bytes - header_bytes) / block;
  s->owner = &state;
  s->next_partial = nullptr;
  s->reciprocal = static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + block - 1) / block);
  s->free_count = static_cast<std::uint32_t>(capacity);
  s->hint = 0;
  s->listed = true;
  for (std::size_t w = 0; w < bitmap_words; ++w) {
    const std::size_t first = w * 64;
    s->free_bits[w] = first >= capacity          ? 0
                      : capacity - first >= 64 ? ~std::uint64_t{0}
                                               : (std::uint64_t{1} << (capacity - first)) - 1;
  }
  return s;
}

/// Takes every free block of the lowest bitmap word that has one into the
/// class's run (see frame_free_lists::run), then hands out the first.
void* take_lowest_run(slab* s, std::size_t size_class) noexcept {
  std::uint32_t w = s->hint;
  while (s->free_bits[w] == 0) ++w;
  const std::uint64_t bits = s->free_bits[w];
  s->free_bits[w] = 0;
  s->hint = w;
  s->free_count -= static_cast<std::uint32_t>(__builtin_popcountll(bits));
  const std::size_t block = block_size(size_class);
  auto& r = frame_lists_tls.runs[size_class];
  r.base = reinterpret_cast<char*>(s) + header_bytes + std::size_t{w} * 64 * block;
  r.bits = bits & (bits - 1);
  return r.base + std::size_t(__builtin_ctzll(bits)) * block;
}

}  // namespace

void* frame_refill(std::size_t size_class) {
  auto& state = slabs_tls;
  slab* s = state.current[size_class];
  if (s == nullptr || s->free_count == 0) {
    if (s != nullptr) s->listed = false;  // full: its next free lists it again
    s = state.partial[size_class];
    if (s != nullptr) state.partial[size_class] = s->next_partial;
    else s = new_slab(size_class);
    state.current[size_class] = s;
  }
  return take_lowest_run(s, size_class);
}

void frame_release(void* p, std::size_t size_class) noexcept {
  auto& state = slabs_tls;
  auto* s = reinterpret_cast<slab*>(reinterpret_cast<std::uintptr_t>(p) & ~(std::uintptr_t{slab_bytes} - 1));
  if (s->owner != &state) {
    push_free(frame_lists_tls, size_class, p);  // another thread's slab: our own list instead
    return;
  }
  const auto offset =
      static_cast<std::uint64_t>(static_cast<char*>(p) - reinterpret_cast<char*>(s)) - header_bytes;
  const auto index = static_cast<std::uint32_t>((offset * s->reciprocal) >> 32);
  const std::uint32_t w = index / 64;
  s->free_bits[w] |= std::uint64_t{1} << (index % 64);
  ++s->free_count;
  if (w < s->hint) s->hint = w;
  if (!s->listed) {
    s->listed = true;
    s->next_partial = state.partial[size_class];
    state.partial[size_class] = s;
  }
}

}  // namespace aio::detail
