// Storage for a result of type T, T& or void: what promises, futures and
// outcomes hold before it is handed to the awaiter.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

namespace aio::detail {

template <class T>
struct value_slot {
  std::optional<T> value;
  template <class... A>
  void emplace(A&&... a) { value.emplace(std::forward<A>(a)...); }
  T& get() noexcept { return *value; }
  // An awaiter of a shared result gets a copy; a move-only result is handed
  // over (it can be awaited once, like a task).
  T take() {
    if constexpr (std::is_copy_constructible_v<T>) return *value;
    else return std::move(*value);
  }
  T take_once() { return std::move(*value); }
};

template <class T>
struct value_slot<T&> {
  T* value = nullptr;
  void emplace(T& v) noexcept { value = &v; }
  T& get() noexcept { return *value; }
  T& take() noexcept { return *value; }
  T& take_once() noexcept { return *value; }
};

template <>
struct value_slot<void> {
  void emplace() noexcept {}
  void get() noexcept {}
  void take() noexcept {}
  void take_once() noexcept {}
};

}  // namespace aio::detail
