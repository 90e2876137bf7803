#include "shm/robust_mutex.hpp"

#include <sched.h>
#include <time.h>

#include "core/spin.hpp"

namespace tide::shm {

namespace {

// Spin while a holder of a few stores is likely running on the other core,
// then yield (it may be preempted on ours), then nap: from 2 us up to
// kMaxNap, checking every kCheckEvery naps whether the holder still lives.
constexpr int kSpins = 200;
constexpr int kYields = 50;
constexpr long kMaxNapNs = 200'000;
constexpr int kCheckEvery = 8;

bool take(std::atomic<std::int32_t>& w, std::int32_t expected, std::int32_t me) noexcept {
  return w.compare_exchange_strong(expected, me, std::memory_order_acquire, std::memory_order_relaxed);
}

// A holder in this process is alive by definition: no system call (a queue's
// get tries the put lock, which a producer thread here usually holds).
bool holder_dead(std::int32_t held, std::int32_t me) noexcept { return held != me && !pid_alive(held); }

}  // namespace

bool RobustMutex::try_lock() noexcept {
  std::int32_t me = current_pid();
  std::int32_t held = owner.load(std::memory_order_relaxed);
  if (held == 0) return take(owner, 0, me);
  return holder_dead(held, me) && take(owner, held, me);
}

bool RobustMutex::lock_slow(std::int32_t me) noexcept {
  long nap = 2'000;
  for (int round = 0;; ++round) {
    // Test before test-and-set: a failing CAS still takes the cache line
    // away from the holder.
    std::int32_t held = owner.load(std::memory_order_relaxed);
    if (held == 0) {
      if (take(owner, 0, me)) return false;
      continue;
    }
    if (round < kSpins) {
      cpu_relax();
    } else if (round < kSpins + kYields) {
      sched_yield();
    } else {
      if ((round - kSpins - kYields) % kCheckEvery == 0 && holder_dead(held, me) && take(owner, held, me))
        return true;
      timespec ts{0, nap};
      nanosleep(&ts, nullptr);
      if (nap < kMaxNapNs) nap *= 2;
    }
  }
}

}  // namespace tide::shm
