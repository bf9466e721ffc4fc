// What the reference snippets stamp their lines with: the running loop's
// clock in whole milliseconds (these programs run on virtual time from 0).
#pragma once

#include <aio/event_loop.hpp>

#include <chrono>

inline long long ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(aio::get_running_loop().time().time_since_epoch())
      .count();
}
