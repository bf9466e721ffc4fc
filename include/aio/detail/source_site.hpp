// A place in the source: what the async stack traces and debug reports print.
//
// std::source_location would do, but libstdc++ 12's cannot be used from clang
// 14 (no __builtin_source_location), so the three compiler builtins every
// supported compiler has are captured directly. As a default argument,
// `source_site::here()` names the caller's line, even when nested in another
// default argument.
#pragma once

#include <cstdint>

namespace aio::detail {

struct source_site {
  const char* file = "";
  const char* function = "";
  std::uint32_t line = 0;

  static constexpr source_site here(const char* file = __builtin_FILE(),
                                    const char* function = __builtin_FUNCTION(),
                                    std::uint32_t line = __builtin_LINE()) noexcept {
    return {file, function, line};
  }
};

}  // namespace aio::detail
