#include "sync/rlock.hpp"

#include "core/error.hpp"
#include "sync/proxy.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kRLockType{shm::SharedType::RLock, {shm::no_data_destructor, shm::proxy_of<RLock>}};
}  // namespace

namespace {

bool take(RLockData& d, Acquire r) {
  if (r == Acquire::Timeout) return false;
  d.count.store(1, std::memory_order_relaxed);
  if (r == Acquire::Abandoned) throw_abandoned("RLock");
  return true;
}

}  // namespace

bool rlock_acquire(RLockData& d, const Deadline& deadline) {
  std::uint64_t me = thread_owner();
  if (d.core.owner.load(std::memory_order_relaxed) == me) {
    d.count.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return take(d, d.core.lock(me, deadline));
}

void rlock_release(RLockData& d) {
  std::uint64_t me = thread_owner();
  std::uint64_t holder = d.core.holder();
  if (holder == 0) throw Error(ErrorKind::InvalidState, "release of an unlocked RLock");
  if (holder != me) throw Error(ErrorKind::InvalidState, "cannot release an RLock held by another thread");
  if (d.count.fetch_sub(1, std::memory_order_relaxed) == 1) d.core.unlock_if_owner(me);
}

bool rlock_owned(const RLockData& d) { return d.core.holder() == thread_owner(); }

std::uint32_t rlock_release_save(RLockData& d) {
  std::uint64_t me = thread_owner();
  if (d.core.holder() != me) throw Error(ErrorKind::InvalidState, "the RLock is not held by this thread");
  std::uint32_t n = d.count.exchange(0, std::memory_order_relaxed);
  d.core.unlock_if_owner(me);
  return n;
}

void rlock_acquire_restore(RLockData& d, std::uint32_t count, bool uninterruptible) {
  std::uint64_t me = thread_owner();
  Acquire r = uninterruptible ? d.core.lock_uninterruptible(me) : d.core.lock(me, Deadline::never());
  d.count.store(count, std::memory_order_relaxed);
  if (r == Acquire::Abandoned && !uninterruptible) throw_abandoned("RLock");
}

Ref<RLock> RLock::create() { return make_shared_proxy<RLock, RLockData>(); }

RLockData& RLock::data() const noexcept { return data_of<RLockData>(*this); }

}  // namespace tide::sync
