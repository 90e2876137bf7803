// The mutual-exclusion core shared by Lock, RLock and the Barrier's inner
// lock: an owner word (0 = free, else an owner token from shm/owner.hpp)
// plus the one wait mechanism. Standard layout, atomics only, so it lives in
// the shared arena and works between processes.
//
// Uncontended acquire and release are one atomic instruction each (no
// system call, no allocation). A contended acquire spins briefly (without
// stealing every gap of a holder that re-takes the lock in a loop), then
// sleeps on the WaitWord in slices of at most kLivenessCheck seconds; at the
// end of each slice it checks whether the holder is still alive
// (shm::token_alive) and, if not, takes the lock over: Acquire::Abandoned.
//
// Like glibc's mutex, an unlock wakes one sleeper and then no other until a
// woken thread has looked at the lock again (`wake_pending`): a thread that
// re-takes the lock in a tight loop pays one futex wake per wake-up of the
// sleeper, not one per unlock. Any thread that looks at the lock after
// sleeping clears the flag first, so a wake-up is never lost.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "core/wait.hpp"

namespace tide::sync {

enum class Acquire { Ok, Timeout, Abandoned };

// How long a waiter sleeps before checking that the holder is alive.
inline constexpr double kLivenessCheck = 0.5;

struct LockCore {
  std::atomic<std::uint64_t> owner{0};
  std::atomic<std::uint32_t> sleepers{0};      // threads in the slow path
  std::atomic<std::uint32_t> wake_pending{0};  // a woken sleeper has not looked yet
  WaitWord word;

  bool try_lock(std::uint64_t token) noexcept {
    std::uint64_t free = 0;
    return owner.compare_exchange_strong(free, token, std::memory_order_seq_cst,
                                         std::memory_order_relaxed);
  }

  // Takes the lock for `token` before `deadline`. Abandoned means the
  // previous holder died and the lock is now held by `token`. Throws
  // Cancelled / Interrupted (not holding).
  Acquire lock(std::uint64_t token, const Deadline& deadline) {
    if (try_lock(token)) return Acquire::Ok;
    return lock_slow(token, deadline);
  }

  // Frees the lock; returns the previous owner (0: it was not held, and
  // nothing changed).
  std::uint64_t unlock() noexcept {
    std::uint64_t prev = owner.exchange(0, std::memory_order_seq_cst);
    if (prev != 0) wake_sleeper();
    return prev;
  }

  // Frees the lock only if `token` holds it; false otherwise.
  bool unlock_if_owner(std::uint64_t token) noexcept {
    if (!owner.compare_exchange_strong(token, 0, std::memory_order_seq_cst)) return false;
    wake_sleeper();
    return true;
  }

  bool locked() const noexcept { return owner.load(std::memory_order_acquire) != 0; }
  std::uint64_t holder() const noexcept { return owner.load(std::memory_order_acquire); }

  // Takes the lock even when the calling thread is being cancelled (for
  // short internal critical sections and for restoring a Condition's lock
  // while an exception propagates). Never throws.
  Acquire lock_uninterruptible(std::uint64_t token) noexcept;

 private:
  Acquire lock_slow(std::uint64_t token, const Deadline& deadline);
  // Spins for the lock (see lock_core.cpp); `polite` before the first sleep.
  bool spin(std::uint64_t token, bool polite) noexcept;
  bool free_for_a_moment() const noexcept;

  // After the owner word was cleared (seq_cst): the sleepers and the flag
  // are read after it, as a sleeper clears the flag before reading the owner.
  void wake_sleeper() noexcept {
    if (sleepers.load(std::memory_order_seq_cst) != 0 && wake_pending.load(std::memory_order_seq_cst) == 0 &&
        wake_pending.exchange(1, std::memory_order_seq_cst) == 0)
      word.notify_one();
  }
};

// Unlocks a LockCore the caller has taken when the scope ends, or earlier
// at release() (idempotent).
class LockCoreGuard {
 public:
  explicit LockCoreGuard(LockCore& l) noexcept : l_(&l) {}
  ~LockCoreGuard() { release(); }
  LockCoreGuard(const LockCoreGuard&) = delete;
  LockCoreGuard& operator=(const LockCoreGuard&) = delete;
  void release() noexcept {
    if (l_) l_->unlock();
    l_ = nullptr;
  }

 private:
  LockCore* l_;
};

// This process's owner token (shm::process_token), cached: the shm call
// costs a getpid() system call. A fork child gets its own.
std::uint64_t process_owner();
// The cached token, or 0 if this process has not claimed one yet.
std::uint64_t process_owner_if_known() noexcept;
// The running tide thread's owner token (shm::thread_token).
std::uint64_t thread_owner();

// Throws AbandonedLock for a lock of kind `what` ("Lock", "RLock").
[[noreturn]] void throw_abandoned(const char* what);

// The earlier of `d` and now + seconds.
Deadline earlier(const Deadline& d, double seconds) noexcept;

}  // namespace tide::sync
