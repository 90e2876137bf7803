#include "sync/semaphore.hpp"

#include "core/error.hpp"
#include "sync/proxy.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kSemaphoreType{shm::SharedType::Semaphore, {shm::no_data_destructor, shm::proxy_of<Semaphore>}};
}  // namespace

Ref<Semaphore> Semaphore::create(std::int64_t initial, bool bounded) {
  if (initial < 0) throw Error(ErrorKind::ArgumentError, "semaphore initial value must be >= 0");
  return make_shared_proxy<Semaphore, SemaphoreData>(initial, bounded);
}

SemaphoreData& Semaphore::data() const noexcept { return data_of<SemaphoreData>(*this); }

bool Semaphore::try_acquire() noexcept {
  auto& v = data().value;
  std::int64_t cur = v.load(std::memory_order_relaxed);
  while (cur > 0) {
    if (v.compare_exchange_weak(cur, cur - 1, std::memory_order_acquire, std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool Semaphore::lock(const Deadline& deadline) {
  if (try_acquire()) return true;
  SemaphoreData& d = data();
  bool got = d.wp.wait(deadline, [&] { return try_acquire(); });
  // The baton: a release of several permits woke one waiter.
  if (got && d.value.load(std::memory_order_relaxed) > 0) d.wp.pass_on();
  return got;
}

void Semaphore::post(std::int64_t n) {
  if (n < 1) throw Error(ErrorKind::ArgumentError, "release count must be >= 1");
  SemaphoreData& d = data();
  std::int64_t cur = d.value.load(std::memory_order_relaxed);
  for (;;) {
    if (d.bound >= 0 && (cur > d.bound || n > d.bound - cur))
      throw Error(ErrorKind::InvalidState, "BoundedSemaphore released too many times");
    if (cur > INT64_MAX - n) throw Error(ErrorKind::InvalidState, "semaphore value would overflow");
    if (d.value.compare_exchange_weak(cur, cur + n, std::memory_order_release, std::memory_order_relaxed))
      break;
  }
  d.wp.notify_one();
}

}  // namespace tide::sync
