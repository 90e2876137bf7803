// tide.sync.Semaphore and BoundedSemaphore (API.md §3): a counter and the
// one wake discipline (core/wait_point.hpp). A bounded semaphore refuses a release that would take
// the counter above its initial value (InvalidState).
#pragma once
#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "core/wait_point.hpp"
#include "shm/shared.hpp"

namespace tide::sync {

struct SemaphoreData {
  shm::SharedHeader header;
  std::atomic<std::int64_t> value{0};
  std::int64_t bound = -1;  // -1: unbounded
  WaitPoint wp;  // notified by releases
  SemaphoreData(std::int64_t initial, bool bounded) noexcept : value(initial), bound(bounded ? initial : -1) {
    header.type = shm::SharedType::Semaphore;
  }
};

class Semaphore final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Semaphore";
  static constexpr char kBoundedTypeName[] = "tide.BoundedSemaphore";
  // ArgumentError if initial < 0.
  static Ref<Semaphore> create(std::int64_t initial, bool bounded);
  explicit Semaphore(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return bounded() ? kBoundedTypeName : kTypeName; }

  SemaphoreData& data() const noexcept;
  bool bounded() const noexcept { return data().bound >= 0; }
  // Python's acquire (named lock/post: Object::release() drops a
  // reference): false at the deadline.
  bool lock(const Deadline& deadline);
  // release(n): ArgumentError if n < 1; InvalidState when bounded and over-released.
  void post(std::int64_t n = 1);
  void unlock() { post(1); }
  std::int64_t value() const noexcept { return data().value.load(std::memory_order_acquire); }

 private:
  bool try_acquire() noexcept;
};

}  // namespace tide::sync
