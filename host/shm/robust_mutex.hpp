// A mutex that lives in the shared arena and guards arena data used by
// several processes: a robust, process-shared pthread mutex. When a process
// dies holding it, the next locker gets it back (EOWNERDEAD) and marks it
// consistent, so a SIGKILLed child never wedges the structure. Critical
// sections using it are kept to a few stores each, ordered so that a death
// halfway leaves data that is usable (at worst an item is lost).
//
// No pointers, standard layout: place it inside arena structs.
#pragma once
#include <pthread.h>

#include <cerrno>

#include "core/spin.hpp"

namespace tide::shm {

struct RobustMutex {
  pthread_mutex_t m;

  void init(bool recursive = false) noexcept {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  void destroy() noexcept { pthread_mutex_destroy(&m); }

  // Returns true when the previous owner died holding it (recovered now).
  // Spins briefly on trylock first: robust mutexes never spin in glibc, and
  // a sleep + wake costs two futex calls on a shared mapping, far more than
  // the few stores a queue holds the lock for.
  bool lock() noexcept {
    for (int i = 0; i < 200; ++i) {
#ifdef __GLIBC__
      // Test before test-and-set (after a first plain try, which also takes
      // a recursive mutex this thread holds): a failing trylock still takes
      // the cache line away from the holder.
      if (i > 0 && __atomic_load_n(&m.__data.__lock, __ATOMIC_RELAXED) != 0) {
        cpu_relax();
        continue;
      }
#endif
      int r = pthread_mutex_trylock(&m);
      if (r == 0) return false;
      if (r == EOWNERDEAD) return recover();
      if (r != EBUSY) break;
      cpu_relax();
    }
    int r = pthread_mutex_lock(&m);
    return r == EOWNERDEAD ? recover() : false;
  }
  // Never blocks: true if taken (recovering it if its owner died).
  bool try_lock() noexcept {
    int r = pthread_mutex_trylock(&m);
    if (r == EOWNERDEAD) recover();
    return r == 0 || r == EOWNERDEAD;
  }
  void unlock() noexcept { pthread_mutex_unlock(&m); }

 private:
  bool recover() noexcept {
    pthread_mutex_consistent(&m);
    return true;
  }
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
