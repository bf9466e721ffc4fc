// A move-only type-erased `void()` callable (std::move_only_function is C++23).
// Small callables are stored inline, so call_soon with a lambda capturing a
// pointer or two allocates nothing but its handle.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace aio::detail {

class callback {
 public:
  callback() noexcept = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, callback> && std::is_invocable_v<D&>>>
  callback(F&& f) {  // NOLINT(google-explicit-constructor): a callable converts, like std::function
    if constexpr (sizeof(D) <= inline_size && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(&storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(&storage_) = new D(std::forward<F>(f));
      ops_ = &heap_ops<D>;
    }
  }

  callback(callback&& other) noexcept : ops_(other.ops_) {
    if (ops_) ops_->move(&storage_, &other.storage_);
    other.ops_ = nullptr;
  }
  callback& operator=(callback&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_) ops_->move(&storage_, &other.storage_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  ~callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  void operator()() { ops_->call(&storage_); }

  void reset() noexcept {
    if (ops_) ops_->destroy(&storage_);
    ops_ = nullptr;
  }

 private:
  static constexpr std::size_t inline_size = 3 * sizeof(void*);
  struct ops_t {
    void (*call)(void*);
    void (*move)(void* to, void* from) noexcept;
    void (*destroy)(void*) noexcept;
  };
  template <class D>
  static constexpr ops_t inline_ops{
      [](void* s) { (*static_cast<D*>(s))(); },
      [](void* to, void* from) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
      },
      [](void* s) noexcept { static_cast<D*>(s)->~D(); }};
  template <class D>
  static constexpr ops_t heap_ops{
      [](void* s) { (**static_cast<D**>(s))(); },
      [](void* to, void* from) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
      [](void* s) noexcept { delete *static_cast<D**>(s); }};

  alignas(std::max_align_t) unsigned char storage_[inline_size];
  const ops_t* ops_ = nullptr;
};

}  // namespace aio::detail
