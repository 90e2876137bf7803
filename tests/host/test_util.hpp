// Helpers every native test file uses: elapsed time, the kind of a thrown
// tide::Error, and a hang detector that waits until threads sleep on a word.
#pragma once
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "core/error.hpp"
#include "core/wait.hpp"

namespace test_util {

using Clock = std::chrono::steady_clock;

// Sanitizer builds instrument every access, so the heavy tests run smaller
// there (each file says by how much).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs `f` and returns the kind of the tide::Error it throws; fails the test
// (and returns `fallback`) if it throws nothing or something else.
template <class F>
tide::ErrorKind thrown_kind(F&& f, tide::ErrorKind fallback = tide::ErrorKind::OSError) {
  try {
    f();
  } catch (const tide::Error& e) {
    return e.kind();
  } catch (...) {
    FAIL_CHECK("threw something other than tide::Error");
    return fallback;
  }
  FAIL_CHECK("did not throw");
  return fallback;
}

// Yields until `n` threads sleep on `w`, false after `limit` (a hang
// detector, not an ordering sleep).
inline bool await_waiters(const tide::WaitWord& w, std::uint32_t n,
                          std::chrono::seconds limit = std::chrono::seconds(5)) {
  auto end = Clock::now() + limit;
  while (w.waiters.load(std::memory_order_seq_cst) < n) {
    if (Clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace test_util
