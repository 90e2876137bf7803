#include "shared_values/array.hpp"

#include <new>

#include "core/error.hpp"

namespace tide::shared {

namespace {
const shm::RegisterSharedType kArrayType{shm::SharedType::Array, {destroy_array, shm::proxy_of<Array>}};
}  // namespace

void destroy_array(shm::SharedHeader* h) noexcept {
  release_guard_lock(reinterpret_cast<ArrayData*>(h)->lock);
}

Ref<Array> Array::create(ScalarType type, std::int64_t size, std::uint64_t fill, shm::SharedObject* lock,
                         bool want_lock) {
  if (size < 0 || size > kMaxSize)
    throw Error(ErrorKind::ArgumentError, "Array size must be between 0 and 2^28");
  shm::SharedType lt = shm::SharedType::RLock;
  shm::Offset l = make_guard_lock(lock, want_lock, lt);
  ArrayData* d = nullptr;
  try {
    void* p = shm::Arena::get().alloc(sizeof(ArrayData) + static_cast<std::size_t>(size) * sizeof(std::uint64_t));
    d = new (p) ArrayData{};
  } catch (...) {
    release_guard_lock(l);
    throw;
  }
  d->header.type = shm::SharedType::Array;
  d->type = type;
  d->lock_type = lt;
  d->lock = l;
  d->size = size;
  for (std::int64_t i = 0; i < size; ++i) new (&d->items()[i]) std::atomic<std::uint64_t>(fill);
  try {
    return Ref<Array>::adopt(new Array(&d->header));
  } catch (...) {
    shm::release_shared(&d->header);
    throw;
  }
}

Ref<Object> Array::guard_lock() const {
  if (!data().lock) return {};
  return shm::proxy_for(data().lock);
}

}  // namespace tide::shared
