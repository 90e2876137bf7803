// A point in time after which a blocking call gives up. API.md §0: nil waits
// forever, 0 does not block, fractions of a second are allowed.
#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>

namespace tide {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline never() noexcept { return Deadline(Clock::time_point::max()); }
  // Caller validates `seconds` (finite, >= 0); huge values mean never.
  static Deadline after(double seconds) noexcept {
    if (seconds > 1e9) return never();
    auto d = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    return Deadline(Clock::now() + d);
  }

  bool is_never() const noexcept { return at_ == Clock::time_point::max(); }
  bool passed() const noexcept { return !is_never() && Clock::now() >= at_; }
  // Time left as an absolute CLOCK_MONOTONIC timespec (steady_clock is
  // CLOCK_MONOTONIC on Linux), for futex waits.
  timespec as_timespec() const noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at_.time_since_epoch()).count();
    return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  }
  Clock::time_point at() const noexcept { return at_; }

 private:
  explicit Deadline(Clock::time_point at) noexcept : at_(at) {}
  Clock::time_point at_;
};

}  // namespace tide
