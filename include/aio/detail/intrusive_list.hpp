// A doubly linked intrusive list: the waiters of futures (and later of locks and
// queues) live in the awaiting coroutine's frame, so linking one allocates
// nothing and unlinking a cancelled waiter is O(1).
#pragma once

#include <utility>

namespace aio::detail {

struct list_node {
  list_node* prev = nullptr;
  list_node* next = nullptr;
  [[nodiscard]] bool linked() const noexcept { return prev != nullptr; }
};

/// FIFO list of T, where T derives from list_node. A sentinel ring, so push,
/// pop and unlink are branch-free.
template <class T>
class intrusive_list {
 public:
  intrusive_list() noexcept { head_.prev = head_.next = &head_; }
  intrusive_list(const intrusive_list&) = delete;
  intrusive_list& operator=(const intrusive_list&) = delete;

  [[nodiscard]] bool empty() const noexcept { return head_.next == &head_; }
  [[nodiscard]] T* front() const noexcept { return static_cast<T*>(head_.next); }

  void push_back(T* item) noexcept {
    list_node* n = item;
    n->prev = head_.prev;
    n->next = &head_;
    head_.prev->next = n;
    head_.prev = n;
  }

  T* pop_front() noexcept {
    list_node* n = head_.next;
    unlink(static_cast<T*>(n));
    return static_cast<T*>(n);
  }

  static void unlink(T* item) noexcept {
    list_node* n = item;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
  }

  template <class F>
  void for_each(F&& f) const {
    for (list_node* n = head_.next; n != &head_; n = n->next) f(static_cast<T*>(n));
  }

 private:
  list_node head_;
};

/// The same FIFO in one pointer instead of a sentinel's two, for lists that
/// live in objects made by the million (a future's waiters, in every task's
/// state): the first node, whose `prev` is the last (a ring without sentinel).
/// Unlinking needs the list, since the first node may be the one going.
template <class T>
class compact_list {
 public:
  compact_list() noexcept = default;
  // Movable: the ring's items point to each other, never to the list.
  compact_list(compact_list&& o) noexcept : first_(std::exchange(o.first_, nullptr)) {}
  compact_list& operator=(const compact_list&) = delete;

  [[nodiscard]] bool empty() const noexcept { return first_ == nullptr; }

  void push_back(T* item) noexcept {
    list_node* n = item;
    if (first_ == nullptr) {
      n->prev = n->next = n;
      first_ = n;
      return;
    }
    list_node* last = first_->prev;
    n->prev = last;
    n->next = first_;
    last->next = n;
    first_->prev = n;
  }

  T* pop_front() noexcept {
    T* item = static_cast<T*>(first_);
    unlink(item);
    return item;
  }

  /// Removes `item`, which must be in this list.
  void unlink(T* item) noexcept {
    list_node* n = item;
    if (n->next == n) {
      first_ = nullptr;
    } else {
      if (n == first_) first_ = n->next;
      n->prev->next = n->next;
      n->next->prev = n->prev;
    }
    n->prev = n->next = nullptr;
  }

 private:
  list_node* first_ = nullptr;
};

}  // namespace aio::detail
