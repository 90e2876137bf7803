// A mutex that lives in the shared arena and guards arena data used by
// several processes, for critical sections of a few loads and stores. The
// word holds the holder's process id: taking it is one compare-and-swap,
// freeing it one release store (a robust pthread mutex costs about 35 ns a
// pair on the 2-core VM of issue 14, this about 13). When the holder's
// process dies with it (SIGKILL mid-put), a waiter finds that process gone
// (shm/owner.hpp pid_alive: dead or a zombie) and takes the mutex over:
// lock() reports the recovery, as EOWNERDEAD did, and the structure goes on
// (critical sections are ordered so that a death halfway leaves data that
// is usable; at worst an item is lost).
//
// Waiters spin, then yield, then sleep in short growing naps: there is no
// wake-up call, so an unlock is a plain store. A holder that stays longer
// (a ring that grows, a cycle collection) costs its waiters at most one nap
// of latency, never a system call on the fast path.
//
// A pid can only be reused after the dead holder was reaped and the pid
// space went round; a waiter checks long before that.
//
// No pointers, standard layout: place it inside arena structs.
#pragma once
#include <atomic>
#include <cstdint>

#include "shm/owner.hpp"

namespace tide::shm {

struct RobustMutex {
  std::atomic<std::int32_t> owner{0};  // holder's pid; 0 = free

  void init() noexcept { owner.store(0, std::memory_order_relaxed); }
  void destroy() noexcept {}

  // Returns true when the previous holder's process died holding it (the
  // caller holds it now).
  bool lock() noexcept {
    std::int32_t me = current_pid();
    std::int32_t free = 0;
    if (owner.compare_exchange_strong(free, me, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    return lock_slow(me);
  }
  // Never blocks: true if taken (taking it over from a dead holder).
  bool try_lock() noexcept;
  void unlock() noexcept { owner.store(0, std::memory_order_release); }

 private:
  bool lock_slow(std::int32_t me) noexcept;
};

// Scoped holder; unlock() early is allowed (then the destructor does nothing).
class RobustLock {
 public:
  explicit RobustLock(RobustMutex& m) noexcept : m_(&m) { m_->lock(); }
  RobustLock(const RobustLock&) = delete;
  RobustLock& operator=(const RobustLock&) = delete;
  ~RobustLock() { unlock(); }
  void unlock() noexcept {
    if (m_) m_->unlock();
    m_ = nullptr;
  }
  void relock(RobustMutex& m) noexcept {
    unlock();
    m_ = &m;
    m_->lock();
  }

 private:
  RobustMutex* m_;
};

}  // namespace tide::shm
