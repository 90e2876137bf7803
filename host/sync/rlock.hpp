// tide.sync.RLock (API.md §3): re-entrant per tide thread (a thread of any
// process). Released only by its owner; if the owning thread ends or its
// process dies while holding it, the next acquire takes it over and
// reports AbandonedLock.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "shm/shared.hpp"
#include "sync/lock_core.hpp"

namespace tide::sync {

struct RLockData {
  shm::SharedHeader header;
  LockCore core;
  std::atomic<std::uint32_t> count{0};  // written by the owner only
  RLockData() noexcept { header.type = shm::SharedType::RLock; }
};

bool rlock_acquire(RLockData& d, const Deadline& deadline);
// Throws InvalidState unless the calling thread holds it.
void rlock_release(RLockData& d);
bool rlock_owned(const RLockData& d);
// For Condition.wait: releases completely, returning the recursion count
// (InvalidState if not owned) ...
std::uint32_t rlock_release_save(RLockData& d);
// ... and takes it back with that count. `uninterruptible` reacquires even
// while the thread is being cancelled (never throws then).
void rlock_acquire_restore(RLockData& d, std::uint32_t count, bool uninterruptible);

// Inline fast paths for the bindings: re-entry, an uncontended take, a
// release by the owner. false: nothing changed, use the calls above
// (which wait, and raise the errors).
inline bool rlock_acquire_fast(RLockData& d) {
  std::uint64_t me = thread_owner();
  if (d.core.owner.load(std::memory_order_relaxed) == me) {
    // Only the owner writes count: a plain increment, not a locked one.
    d.count.store(d.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
  }
  if (!d.core.try_lock(me)) return false;
  d.count.store(1, std::memory_order_relaxed);
  return true;
}
inline bool rlock_release_fast(RLockData& d) {
  std::uint64_t me = thread_owner();
  if (d.core.owner.load(std::memory_order_relaxed) != me) return false;
  std::uint32_t n = d.count.load(std::memory_order_relaxed);
  if (n > 1) {
    d.count.store(n - 1, std::memory_order_relaxed);
    return true;
  }
  d.count.store(0, std::memory_order_relaxed);
  d.core.unlock_if_owner(me);
  return true;
}

class RLock final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.RLock";
  static Ref<RLock> create();
  explicit RLock(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  RLockData& data() const noexcept;
  bool lock(const Deadline& deadline) { return rlock_acquire(data(), deadline); }
  void unlock() { rlock_release(data()); }
  bool locked() const noexcept { return data().core.locked(); }
  bool owned() const { return rlock_owned(data()); }
};

}  // namespace tide::sync
