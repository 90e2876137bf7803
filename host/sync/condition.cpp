#include "sync/condition.hpp"

#include "core/error.hpp"
#include "sync/lock.hpp"
#include "sync/proxy.hpp"
#include "sync/rlock.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kConditionType{shm::SharedType::Condition, {destroy_condition, shm::proxy_of<Condition>}};
}  // namespace

void destroy_condition(shm::SharedHeader* h) noexcept {
  auto& c = data_at<ConditionData>(h);
  if (c.lock) shm::release_shared(shm::Arena::get().at<shm::SharedHeader>(c.lock));
}

Ref<Condition> Condition::create(shm::SharedObject* lock) {
  shm::SharedHeader* lh = nullptr;
  if (lock) {
    lh = lock->shared_header();
    if (lh->type != shm::SharedType::Lock && lh->type != shm::SharedType::RLock)
      throw Error(ErrorKind::ArgumentError, "a Condition needs a Lock or an RLock");
    shm::retain_shared(lh);
  } else {
    lh = &shm::create_shared<RLockData>()->header;
  }
  try {
    auto c = make_shared_proxy<Condition, ConditionData>();
    c->data().lock = shm::Arena::get().offset_of(lh);
    c->data().lock_type = lh->type;
    return c;
  } catch (...) {
    shm::release_shared(lh);
    throw;
  }
}

ConditionData& Condition::data() const noexcept { return data_of<ConditionData>(*this); }

shm::SharedHeader* Condition::lock_header() const noexcept {
  return shm::Arena::get().at<shm::SharedHeader>(data().lock);
}

Ref<Object> Condition::lock_object() const { return shm::proxy_for(data().lock); }

bool Condition::lock(const Deadline& deadline) {
  if (lock_is_rlock()) return rlock_acquire(data_at<RLockData>(lock_header()), deadline);
  return lock_acquire(data_at<LockData>(lock_header()), deadline);
}

void Condition::unlock() {
  if (lock_is_rlock())
    rlock_release(data_at<RLockData>(lock_header()));
  else
    lock_release(data_at<LockData>(lock_header()));
}

bool Condition::locked() const noexcept {
  // LockCore sits right after the header in both lock types.
  if (lock_is_rlock()) return data_at<RLockData>(lock_header()).core.locked();
  return data_at<LockData>(lock_header()).core.locked();
}

bool Condition::owned() const {
  if (lock_is_rlock()) return rlock_owned(data_at<RLockData>(lock_header()));
  return lock_owned(data_at<LockData>(lock_header()));
}

bool Condition::wait(const Deadline& deadline) {
  if (!owned()) throw Error(ErrorKind::InvalidState, "cannot wait on a Condition without holding its lock");
  ConditionData& c = data();
  std::uint32_t seen = c.word.seq.load(std::memory_order_seq_cst);
  std::uint32_t saved = 0;
  if (lock_is_rlock())
    saved = rlock_release_save(data_at<RLockData>(lock_header()));
  else
    lock_release(data_at<LockData>(lock_header()));
  auto restore = [&](bool uninterruptible) {
    if (lock_is_rlock()) {
      rlock_acquire_restore(data_at<RLockData>(lock_header()), saved, uninterruptible);
    } else if (uninterruptible) {
      data_at<LockData>(lock_header()).core.lock_uninterruptible(process_owner());
    } else {
      lock_acquire(data_at<LockData>(lock_header()), Deadline::never());
    }
  };
  bool notified;
  try {
    notified = wait_until(c.word, deadline,
                          [&] { return c.word.seq.load(std::memory_order_acquire) != seen; });
  } catch (...) {
    restore(true);  // the caller holds the lock again, whatever ended the wait
    throw;
  }
  restore(false);  // AbandonedLock here leaves the lock held, as documented
  return notified;
}

void Condition::notify(std::uint64_t n) {
  if (!owned()) throw Error(ErrorKind::InvalidState, "cannot notify on a Condition without holding its lock");
  if (n == 0) return;
  WaitWord& w = data().word;
  // Each notify_one moves the sequence (so waiters not yet asleep return)
  // and wakes one sleeper; no more rounds than there are sleepers.
  std::uint64_t asleep = w.waiters.load(std::memory_order_seq_cst);
  std::uint64_t rounds = n < asleep ? n : asleep;
  if (rounds == 0) rounds = 1;
  for (std::uint64_t i = 0; i < rounds; ++i) w.notify_one();
}

void Condition::notify_all() {
  if (!owned()) throw Error(ErrorKind::InvalidState, "cannot notify on a Condition without holding its lock");
  data().word.notify_all();
}

}  // namespace tide::sync
