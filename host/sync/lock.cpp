#include "sync/lock.hpp"

#include "core/error.hpp"
#include "sync/proxy.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kLockType{shm::SharedType::Lock, {shm::no_data_destructor, shm::proxy_of<Lock>}};
}  // namespace

bool lock_acquire(LockData& d, const Deadline& deadline) {
  switch (d.core.lock(process_owner(), deadline)) {
    case Acquire::Ok: return true;
    case Acquire::Timeout: return false;
    case Acquire::Abandoned: break;
  }
  throw_abandoned("Lock");
}

void lock_release(LockData& d) {
  if (d.core.unlock() == 0) throw Error(ErrorKind::InvalidState, "release of an unlocked Lock");
}

bool lock_owned(const LockData& d) { return d.core.holder() == process_owner(); }

Ref<Lock> Lock::create() { return make_shared_proxy<Lock, LockData>(); }

LockData& Lock::data() const noexcept { return data_of<LockData>(*this); }

}  // namespace tide::sync
