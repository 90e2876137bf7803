#include "sync/types.hpp"

#include "shared_values/array.hpp"
#include "shared_values/value.hpp"
#include "sync/barrier.hpp"
#include "sync/condition.hpp"
#include "sync/event.hpp"
#include "sync/lock.hpp"
#include "sync/rlock.hpp"
#include "sync/semaphore.hpp"

namespace tide::sync {

namespace {

void nothing(shm::SharedHeader*) noexcept {}

template <class Proxy>
Object* proxy(shm::SharedHeader* h) {
  return new Proxy(h);
}

}  // namespace

void register_shared_types() {
  using shm::SharedType;
  shm::register_shared_type(SharedType::Lock, {nothing, proxy<Lock>});
  shm::register_shared_type(SharedType::RLock, {nothing, proxy<RLock>});
  shm::register_shared_type(SharedType::Condition, {destroy_condition, proxy<Condition>});
  shm::register_shared_type(SharedType::Semaphore, {nothing, proxy<Semaphore>});
  shm::register_shared_type(SharedType::Event, {nothing, proxy<Event>});
  shm::register_shared_type(SharedType::Barrier, {destroy_barrier, proxy<Barrier>});
  shm::register_shared_type(SharedType::Value, {shared::destroy_value, proxy<shared::Value>});
  shm::register_shared_type(SharedType::Array, {shared::destroy_array, proxy<shared::Array>});
}

}  // namespace tide::sync
