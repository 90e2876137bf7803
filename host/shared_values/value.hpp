// tide.shared.Value (API.md §9): one typed slot in the shared arena,
// read, written, added to and compared-and-swapped atomically, with an
// optional lock (an RLock by default) for compound updates.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "shared_values/scalar.hpp"
#include "shm/shared.hpp"

namespace tide::shared {

struct ValueData {
  shm::SharedHeader header;
  ScalarType type;
  shm::SharedType lock_type = shm::SharedType::RLock;
  shm::Offset lock = 0;  // 0: created with lock=false
  std::atomic<std::uint64_t> bits{0};
  ValueData(ScalarType t, std::uint64_t init, shm::Offset l, shm::SharedType lt) noexcept
      : type(t), lock_type(lt), lock(l), bits(init) {
    header.type = shm::SharedType::Value;
  }
};

void destroy_value(shm::SharedHeader* h) noexcept;

class Value final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Value";
  // `init` already converted to the slot form; lock as make_guard_lock.
  static Ref<Value> create(ScalarType type, std::uint64_t init, shm::SharedObject* lock, bool want_lock);
  explicit Value(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  ValueData& data() const noexcept { return *reinterpret_cast<ValueData*>(shared_header()); }
  ScalarType type() const noexcept { return data().type; }
  std::uint64_t load() const noexcept { return data().bits.load(std::memory_order_seq_cst); }
  void store(std::uint64_t b) noexcept { data().bits.store(b, std::memory_order_seq_cst); }
  // The new value. Integers wrap around on overflow (two's complement).
  std::int64_t add(std::int64_t n) noexcept;
  double add(double n) noexcept;
  // Replaces the value with `desired` if it equals `expected`.
  bool cas(std::uint64_t expected, std::uint64_t desired) noexcept;
  // A new proxy of the value's lock, or null when created with lock=false.
  Ref<Object> guard_lock() const;
  // The value's lock taken and released in the arena, without a proxy
  // (Value:update). lock_guard is sync::Lock/RLock's acquire: true when
  // taken, false at the deadline; throws AbandonedLock (then held),
  // Cancelled, Interrupted; InvalidState when created with lock=false.
  // unlock_guard throws InvalidState if this thread (RLock) or process
  // (Lock) does not hold it.
  bool has_lock() const noexcept { return data().lock != 0; }
  bool lock_guard(const Deadline& deadline);
  void unlock_guard();
};

}  // namespace tide::shared
