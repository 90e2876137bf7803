#include "sync/lock_core.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <utility>
#include <string>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/spin.hpp"
#include "shm/owner.hpp"

namespace tide::sync {

namespace {

// Spinning before sleeping (W7: a holder re-taking the lock in a tight
// loop, a few Lua instructions per critical section). A waiter that took
// the lock in every gap would make it change hands on almost every
// iteration, each handover moving the lock's and the data's cache lines
// between cores (issue 14: 89% of acquires won by spinning, ~300 ns a
// pair). So a fresh waiter is polite first: it polls with a growing
// back-off (each poll of a line the holder writes costs the holder a cache
// miss), and when a poll finds the lock free it takes it only if it stays
// free for kMoment, which a holder re-taking it in a loop never leaves it;
// a lock that really is free is still taken within a poll and a moment.
// After kPolite it takes the first gap it sees, so the handover is bounded
// (about one per kPolite while two threads loop), and after kSpin it
// sleeps. A woken sleeper has waited long already: it takes the first gap
// for kWokenSpin, then sleeps again.
using SpinClock = std::chrono::steady_clock;
constexpr auto kPolite = std::chrono::microseconds(8);
constexpr auto kSpin = std::chrono::microseconds(16);
constexpr auto kWokenSpin = std::chrono::microseconds(2);
constexpr auto kMoment = std::chrono::nanoseconds(300);
constexpr unsigned kMaxBackoff = 32;  // pauses between polite polls
constexpr unsigned kClockEvery = 8;   // eager polls per clock read

std::atomic<std::uint64_t> g_process_owner{0};

void forget_process_owner() noexcept { g_process_owner.store(0, std::memory_order_relaxed); }
AtFork g_at_fork{nullptr, nullptr, forget_process_owner};

}  // namespace

std::uint64_t process_owner() {
  std::uint64_t t = g_process_owner.load(std::memory_order_relaxed);
  if (t != 0) return t;
  t = shm::process_token();
  g_process_owner.store(t, std::memory_order_relaxed);
  return t;
}

void throw_abandoned(const char* what) {
  throw Error(ErrorKind::AbandonedLock,
              std::string("the previous holder of this ") + what +
                  " died while holding it; the caller now holds it");
}

std::uint64_t process_owner_if_known() noexcept { return g_process_owner.load(std::memory_order_relaxed); }

std::uint64_t thread_owner() { return shm::thread_token(); }

Deadline earlier(const Deadline& d, double seconds) noexcept {
  Deadline slice = Deadline::after(seconds);
  return d.is_never() || slice.at() < d.at() ? slice : d;
}

bool LockCore::free_for_a_moment() const noexcept {
  auto until = SpinClock::now() + kMoment;
  do {
    cpu_relax();
    if (owner.load(std::memory_order_relaxed) != 0) return false;
  } while (SpinClock::now() < until);
  return true;
}

bool LockCore::spin(std::uint64_t token, bool polite) noexcept {
  auto start = SpinClock::now();
  auto eager_at = polite ? start + kPolite : start;
  auto end = start + (polite ? kSpin : kWokenSpin);
  unsigned backoff = polite ? 1 : 0;
  bool eager = !polite;
  for (unsigned poll = 0;; ++poll) {
    for (unsigned i = 0; i < backoff; ++i) cpu_relax();
    if (eager) cpu_relax();
    if (owner.load(std::memory_order_relaxed) == 0 && (eager || free_for_a_moment()) && try_lock(token))
      return true;
    if (!eager || poll % kClockEvery == 0) {
      auto now = SpinClock::now();
      if (now >= end) return false;
      if (!eager && now >= eager_at) {
        eager = true;
        backoff = 0;
      }
    }
    if (!eager) backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

Acquire LockCore::lock_slow(std::uint64_t token, const Deadline& deadline) {
  if (deadline.passed()) return try_lock(token) ? Acquire::Ok : Acquire::Timeout;  // timeout 0
  if (spin(token, true)) return Acquire::Ok;
  // Counted before the owner is re-checked (in wait_until's predicate), so
  // an unlock either sees this sleeper and wakes one, or happened before the
  // check and the check sees the lock free.
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  Acquire result = Acquire::Timeout;
  // The first look follows the spin just done: one try. Later ones follow
  // a wake-up (or a liveness slice).
  bool first = true;
  auto look = [&] {
    wake_pending.store(0, std::memory_order_seq_cst);
    if (std::exchange(first, false)) return try_lock(token);
    return spin(token, false);
  };
  auto leave = [&] {
    sleepers.fetch_sub(1, std::memory_order_seq_cst);
    wake_pending.store(0, std::memory_order_seq_cst);
    // A wake-up meant for a sleeper may have reached this one as it gave up
    // (timeout, cancel): pass it on.
    if (result == Acquire::Timeout && owner.load(std::memory_order_seq_cst) == 0) wake_sleeper();
  };
  try {
    for (;;) {
      if (wait_until(word, earlier(deadline, kLivenessCheck), look)) {
        result = Acquire::Ok;
        break;
      }
      if (deadline.passed()) break;
      std::uint64_t held = owner.load(std::memory_order_acquire);
      if (held != 0 && !shm::token_alive(held) &&
          owner.compare_exchange_strong(held, token, std::memory_order_seq_cst)) {
        result = Acquire::Abandoned;
        break;
      }
    }
  } catch (...) {
    leave();
    throw;
  }
  leave();
  return result;
}

Acquire LockCore::lock_uninterruptible(std::uint64_t token) noexcept {
  for (;;) {
    try {
      return lock(token, Deadline::never());
    } catch (...) {
      // Cancellation is pending, so waits return at once: yield until the
      // holder (in a short critical section) lets go.
      sched_yield();
    }
  }
}

}  // namespace tide::sync
