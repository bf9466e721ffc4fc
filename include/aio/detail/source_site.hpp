// A place in the source: what the async stack traces and debug reports print.
//
// As a default argument, `source_site::here()` names the caller's line, even
// when nested in another default argument. Every coroutine frame keeps one
// (promise_base), so it is made as small as the compiler allows: where
// std::source_location works (g++), one pointer to a static record; with clang
// 14 and libstdc++ 12 it does not (no __builtin_source_location), and the
// three compiler builtins are kept instead.
#pragma once

#include <cstdint>
#include <string>

#if defined(__has_builtin)
#if __has_builtin(__builtin_source_location)
#define AIO_SOURCE_SITE_IS_ONE_POINTER 1
#endif
#endif
#ifndef AIO_SOURCE_SITE_IS_ONE_POINTER
#define AIO_SOURCE_SITE_IS_ONE_POINTER 0
#endif

#if AIO_SOURCE_SITE_IS_ONE_POINTER
#include <source_location>
#endif

namespace aio::detail {

class source_site {
 public:
  /// No place: what aio's own internal calls pass where a site is optional.
  constexpr source_site() noexcept = default;

#if AIO_SOURCE_SITE_IS_ONE_POINTER
  static constexpr source_site here(std::source_location where = std::source_location::current()) noexcept {
    return source_site{where};
  }
  [[nodiscard]] constexpr bool known() const noexcept { return where_.line() != 0; }
  [[nodiscard]] constexpr const char* file() const noexcept { return where_.file_name(); }
  /// The compiler's name of the function: g++ gives its whole signature.
  [[nodiscard]] constexpr const char* function_signature() const noexcept { return where_.function_name(); }
  [[nodiscard]] constexpr std::uint32_t line() const noexcept { return where_.line(); }

 private:
  constexpr explicit source_site(std::source_location where) noexcept : where_(where) {}
  std::source_location where_;
#else
  static constexpr source_site here(const char* file = __builtin_FILE(), const char* function = __builtin_FUNCTION(),
                                    std::uint32_t line = __builtin_LINE()) noexcept {
    return source_site{file, function, line};
  }
  [[nodiscard]] constexpr bool known() const noexcept { return line_ != 0; }
  [[nodiscard]] constexpr const char* file() const noexcept { return file_; }
  [[nodiscard]] constexpr const char* function_signature() const noexcept { return function_; }
  [[nodiscard]] constexpr std::uint32_t line() const noexcept { return line_; }

 private:
  constexpr source_site(const char* file, const char* function, std::uint32_t line) noexcept
      : file_(file), function_(function), line_(line) {}
  const char* file_ = "";
  const char* function_ = "";
  std::uint32_t line_ = 0;
#endif

 public:
  /// The function's bare name ("fetch", "operator()"), whatever the compiler
  /// gives; src/introspection.cpp.
  [[nodiscard]] std::string function() const;
  /// "file:line", as the reports print a place.
  [[nodiscard]] std::string location() const;
};

}  // namespace aio::detail
