// tide.sync.Lock (API.md §3): a non-re-entrant lock held by a process (as
// in Python, any thread may release it). If the holding process dies, the
// next acquire takes it over and reports AbandonedLock.
#pragma once
#include "core/deadline.hpp"
#include "shm/shared.hpp"
#include "sync/lock_core.hpp"

namespace tide::sync {

struct LockData {
  shm::SharedHeader header;
  LockCore core;
  LockData() noexcept { header.type = shm::SharedType::Lock; }
};

// true when acquired, false at the deadline. Throws AbandonedLock when the
// previous holder died (the caller then holds the lock), Cancelled,
// Interrupted.
bool lock_acquire(LockData& d, const Deadline& deadline);
// Throws InvalidState if the lock is not held.
void lock_release(LockData& d);
// The uncontended release, inline: false (nothing changed) when the lock
// is not held, for lock_release to raise.
inline bool lock_release_fast(LockData& d) noexcept { return d.core.unlock() != 0; }
// Held by this process (what Condition checks; Python's _is_owned).
bool lock_owned(const LockData& d);

class Lock final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Lock";
  static Ref<Lock> create();
  explicit Lock(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  LockData& data() const noexcept;
  // Named lock/unlock, not acquire/release: Object::release() drops a reference.
  bool lock(const Deadline& deadline) { return lock_acquire(data(), deadline); }
  void unlock() { lock_release(data()); }
  bool locked() const noexcept { return data().core.locked(); }
};

}  // namespace tide::sync
