// Collects what aio reports through aio::log while it lives, then restores the
// previous handler.
#pragma once

#include <aio/log.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::test {

struct captured_log {
  std::vector<std::string> lines;
  aio::log_handler previous;
  captured_log() : previous(aio::set_log_handler([this](std::string_view m) { lines.emplace_back(m); })) {}
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;
  ~captured_log() { aio::set_log_handler(std::move(previous)); }
};

}  // namespace aio::test
