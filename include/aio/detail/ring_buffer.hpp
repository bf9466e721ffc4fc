// A growable ring buffer (a deque on one block): the storage of the FIFO and
// LIFO queues. Capacity is a power of two and only grows, so once a queue has
// reached its high-water mark (at most maxsize rounded up for a bounded queue)
// put and get never allocate. Works for move-only T; T need not be
// default-constructible.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace aio::detail {

template <class T>
class ring_buffer {
 public:
  ring_buffer() noexcept = default;
  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ~ring_buffer() {
    clear();
    if (data_ != nullptr) std::allocator<T>{}.deallocate(data_, capacity_);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  void push_back(T&& v) {
    if (size_ == capacity_) grow();
    std::construct_at(data_ + ((head_ + size_) & (capacity_ - 1)), std::move(v));
    ++size_;
  }
  void push_front(T&& v) {
    if (size_ == capacity_) grow();
    const std::size_t slot = (head_ + capacity_ - 1) & (capacity_ - 1);
    std::construct_at(data_ + slot, std::move(v));
    head_ = slot;
    ++size_;
  }
  /// Inserts at position `index` (0 = front); O(index).
  void insert(std::size_t index, T&& v) {
    push_front(std::move(v));
    for (std::size_t i = 0; i < index; ++i) std::swap((*this)[i], (*this)[i + 1]);
  }
  T& operator[](std::size_t i) noexcept { return data_[(head_ + i) & (capacity_ - 1)]; }

  T pop_front() {
    T* p = data_ + head_;
    T v = std::move(*p);
    std::destroy_at(p);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    return v;
  }
  T pop_back() {
    T* p = data_ + ((head_ + size_ - 1) & (capacity_ - 1));
    T v = std::move(*p);
    std::destroy_at(p);
    --size_;
    return v;
  }
  void clear() noexcept {
    for (; size_ > 0; --size_) {
      std::destroy_at(data_ + head_);
      head_ = (head_ + 1) & (capacity_ - 1);
    }
    head_ = 0;
  }

 private:
  void grow() {
    const std::size_t cap = capacity_ == 0 ? 16 : capacity_ * 2;
    T* bigger = std::allocator<T>{}.allocate(cap);
    std::size_t i = 0;
    try {
      for (; i < size_; ++i) std::construct_at(bigger + i, std::move_if_noexcept(data_[(head_ + i) & (capacity_ - 1)]));
    } catch (...) {
      std::destroy(bigger, bigger + i);
      std::allocator<T>{}.deallocate(bigger, cap);
      throw;
    }
    const std::size_t n = size_;
    clear();
    if (data_ != nullptr) std::allocator<T>{}.deallocate(data_, capacity_);
    data_ = bigger;
    capacity_ = cap;
    head_ = 0;
    size_ = n;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace aio::detail
