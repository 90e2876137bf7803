#include "sync/lock_core.hpp"

#include <pthread.h>
#include <sched.h>

#include <mutex>
#include <string>

#include "core/error.hpp"
#include "core/spin.hpp"
#include "shm/owner.hpp"

namespace tide::sync {

namespace {

// Busy-wait rounds before sleeping: a holder in a short critical section
// (W7: a few Lua instructions) releases sooner than a futex round trip.
constexpr int kSpins = 200;

std::atomic<std::uint64_t> g_process_owner{0};
std::once_flag g_atfork_once;

void forget_process_owner() noexcept { g_process_owner.store(0, std::memory_order_relaxed); }

}  // namespace

std::uint64_t process_owner() {
  std::uint64_t t = g_process_owner.load(std::memory_order_relaxed);
  if (t != 0) return t;
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_process_owner); });
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

bool LockCore::spin(std::uint64_t token) noexcept {
  if (try_lock(token)) return true;
  for (int i = 0; i < kSpins; ++i) {
    cpu_relax();
    if (owner.load(std::memory_order_relaxed) == 0 && try_lock(token)) return true;
  }
  return false;
}

Acquire LockCore::lock_slow(std::uint64_t token, const Deadline& deadline) {
  if (deadline.passed()) return try_lock(token) ? Acquire::Ok : Acquire::Timeout;  // timeout 0
  if (spin(token)) return Acquire::Ok;
  // Counted before the owner is re-checked (in wait_until's predicate), so
  // an unlock either sees this sleeper and wakes one, or happened before the
  // check and the check sees the lock free.
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  Acquire result = Acquire::Timeout;
  auto look = [&] {
    wake_pending.store(0, std::memory_order_seq_cst);
    return spin(token);
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
