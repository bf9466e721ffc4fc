// A growable array of trivially copyable elements, grown with realloc: the
// storage of the loop's timer queue and (through trivial_ring) ready queue.
//
// Why not std::vector: a vector grows by allocating twice the room, copying,
// and freeing the old block. With a million sleeping tasks the timer queue's
// arrays and the ready ring end up at tens of megabytes, and every block they
// outgrew stays behind in malloc's heap, resident and unused (20 MB, 20 bytes
// a task in memory_tasks, measured with mallinfo2). realloc lets glibc grow a
// large block in place or move its pages with mremap: no copy and nothing
// left behind.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace aio::detail {

template <class T>
class trivial_array {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "trivial_array moves its elements with realloc");

 public:
  trivial_array() noexcept = default;
  trivial_array(const trivial_array&) = delete;
  trivial_array& operator=(const trivial_array&) = delete;
  trivial_array(trivial_array&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}
  trivial_array& operator=(trivial_array&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~trivial_array() { std::free(data_); }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T& back() noexcept { return data_[size_ - 1]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

  void push_back(const T& v) {
    if (size_ == capacity_) [[unlikely]] make_room_for_one();
    data_[size_++] = v;
  }
  void pop_back() noexcept { --size_; }
  /// O(size()): for short arrays (the timer queue's list of runs).
  void insert_front(const T& v) {
    if (size_ == capacity_) make_room_for_one();
    std::memmove(data_ + 1, data_, size_ * sizeof(T));
    data_[0] = v;
    ++size_;
  }
  void erase_at(std::size_t i) noexcept {
    std::memmove(data_ + i, data_ + i + 1, (size_ - i - 1) * sizeof(T));
    --size_;
  }
  /// Keeps the first `n` elements (n <= size()); the room stays.
  void shrink_to(std::size_t n) noexcept { size_ = n; }
  void clear() noexcept { size_ = 0; }

  /// Makes room for `n` elements; the contents stay as they are.
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    void* bigger = std::realloc(data_, n * sizeof(T));
    if (bigger == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(bigger);
    capacity_ = n;
  }
  /// Gives back the room beyond size() if it is at least half the block and
  /// the block is big (see big_block): after a mass cancellation, the timer
  /// queue returns what the cancelled timers took. Small blocks keep their
  /// room, so that arrays emptied and refilled all the time do not churn.
  void release_unused_room() noexcept {
    if (capacity_ * sizeof(T) >= big_block && size_ <= capacity_ / 2) shrink_capacity_to(size_);
  }
  /// Keeps `n` elements (n <= size()) and gives back the rest of the block.
  void shrink_capacity_to(std::size_t n) noexcept {
    size_ = n;
    if (n == 0) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
    } else if (void* smaller = std::realloc(data_, n * sizeof(T))) {
      data_ = static_cast<T*>(smaller);
      capacity_ = n;
    }  // else: a failed shrink keeps the whole block, which is fine
  }
  /// Where giving memory back starts to matter (and where glibc's malloc
  /// serves blocks with mmap, so that a shrunk block's pages go back at once).
  static constexpr std::size_t big_block = 256 * 1024;

  /// Grows the array to `n` elements (n >= size()), the new ones uninitialised.
  void grow_to(std::size_t n) {
    reserve(n);
    size_ = n;
  }

 private:
  void make_room_for_one() { reserve(capacity_ == 0 ? 64 : 2 * capacity_); }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace aio::detail
