#include "shared_values/value.hpp"

#include "core/error.hpp"
#include "sync/lock.hpp"
#include "sync/proxy.hpp"
#include "sync/rlock.hpp"

namespace tide::shared {

namespace {
const shm::RegisterSharedType kValueType{shm::SharedType::Value, {destroy_value, shm::proxy_of<Value>}};
}  // namespace

void destroy_value(shm::SharedHeader* h) noexcept {
  release_guard_lock(reinterpret_cast<ValueData*>(h)->lock);
}

Ref<Value> Value::create(ScalarType type, std::uint64_t init, shm::SharedObject* lock, bool want_lock) {
  shm::SharedType lt = shm::SharedType::RLock;
  shm::Offset l = make_guard_lock(lock, want_lock, lt);
  try {
    return sync::make_shared_proxy<Value, ValueData>(type, init, l, lt);
  } catch (...) {
    release_guard_lock(l);
    throw;
  }
}

std::int64_t Value::add(std::int64_t n) noexcept {
  std::uint64_t prev = data().bits.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_seq_cst);
  return int_of(prev + static_cast<std::uint64_t>(n));
}

double Value::add(double n) noexcept {
  auto& b = data().bits;
  std::uint64_t cur = b.load(std::memory_order_relaxed);
  for (;;) {
    double next = double_of(cur) + n;
    if (b.compare_exchange_weak(cur, bits_of(next), std::memory_order_seq_cst, std::memory_order_relaxed))
      return next;
  }
}

bool Value::cas(std::uint64_t expected, std::uint64_t desired) noexcept {
  auto& b = data().bits;
  std::uint64_t cur = b.load(std::memory_order_seq_cst);
  for (;;) {
    if (!scalar_equal(type(), cur, expected)) return false;
    if (b.compare_exchange_weak(cur, desired, std::memory_order_seq_cst, std::memory_order_seq_cst)) return true;
  }
}

Ref<Object> Value::guard_lock() const {
  if (!data().lock) return {};
  return shm::proxy_for(data().lock);
}

bool Value::lock_guard(const Deadline& deadline) {
  const ValueData& d = data();
  if (!d.lock) throw Error(ErrorKind::InvalidState, "the Value was created with lock=false");
  auto* h = shm::Arena::get().at<shm::SharedHeader>(d.lock);
  if (d.lock_type == shm::SharedType::RLock) return sync::rlock_acquire(sync::data_at<sync::RLockData>(h), deadline);
  return sync::lock_acquire(sync::data_at<sync::LockData>(h), deadline);
}

void Value::unlock_guard() {
  const ValueData& d = data();
  if (!d.lock) throw Error(ErrorKind::InvalidState, "the Value was created with lock=false");
  auto* h = shm::Arena::get().at<shm::SharedHeader>(d.lock);
  if (d.lock_type == shm::SharedType::RLock)
    sync::rlock_release(sync::data_at<sync::RLockData>(h));
  else
    sync::lock_release(sync::data_at<sync::LockData>(h));
}

}  // namespace tide::shared
