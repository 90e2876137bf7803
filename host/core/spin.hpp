// Busy-waiting before sleeping. A futex sleep + wake costs two system calls
// and a context switch; when the awaited change is a few microseconds away
// (a producer and a consumer at the same pace, a lock held for a few
// instructions) a short spin finds it first. Every spin in tide uses these.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace tide {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// A spin length that adapts, like glibc's adaptive mutexes: it grows while
// spinning finds what it waits for and shrinks while it does not (on a
// machine with no idle core, spinning only delays the thread it waits for).
// Between about 0.2 and 5 us of `pause`. A hint only; may live in shared
// memory.
struct AdaptiveSpin {
  static constexpr std::uint32_t kMin = 8, kMax = 200;
  std::atomic<std::uint32_t> spins{64};

  // Spins until ready() or the budget is spent; returns ready()'s verdict.
  template <class Ready>
  bool spin(Ready&& ready) noexcept {
    std::uint32_t budget = std::clamp(spins.load(std::memory_order_relaxed), kMin, kMax);
    for (std::uint32_t i = 0; i < budget; ++i) {
      if (ready()) {
        if (budget < kMax) spins.store(std::min(kMax, budget * 2), std::memory_order_relaxed);
        return true;
      }
      cpu_relax();
    }
    spins.store(std::max(kMin, budget / 2), std::memory_order_relaxed);
    return false;
  }
};

}  // namespace tide
