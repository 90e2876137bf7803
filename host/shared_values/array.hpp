// tide.shared.Array (API.md §9): a fixed number of typed slots in the
// shared arena, each read and written atomically, with an optional lock
// (an RLock by default) for compound updates. Indexes here are 0-based;
// the binding maps Lua's 1-based ones.
#pragma once
#include <atomic>
#include <cstdint>

#include "shared_values/scalar.hpp"
#include "shm/shared.hpp"

namespace tide::shared {

struct ArrayData {
  shm::SharedHeader header;
  ScalarType type;
  shm::SharedType lock_type = shm::SharedType::RLock;
  shm::Offset lock = 0;
  std::int64_t size = 0;
  std::uint64_t reserved2 = 0;
  // The slots follow the struct.
  std::atomic<std::uint64_t>* items() noexcept { return reinterpret_cast<std::atomic<std::uint64_t>*>(this + 1); }
};
static_assert(sizeof(ArrayData) % 16 == 0);

void destroy_array(shm::SharedHeader* h) noexcept;

class Array final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Array";
  static constexpr std::int64_t kMaxSize = std::int64_t(1) << 28;
  // All slots start as `fill`. ArgumentError if size is out of 0..kMaxSize.
  static Ref<Array> create(ScalarType type, std::int64_t size, std::uint64_t fill,
                           shm::SharedObject* lock, bool want_lock);
  explicit Array(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  ArrayData& data() const noexcept { return *reinterpret_cast<ArrayData*>(shared_header()); }
  ScalarType type() const noexcept { return data().type; }
  std::int64_t size() const noexcept { return data().size; }
  // Unchecked: callers validate 0 <= i < size().
  std::uint64_t load(std::int64_t i) const noexcept { return data().items()[i].load(std::memory_order_seq_cst); }
  void store(std::int64_t i, std::uint64_t b) noexcept { data().items()[i].store(b, std::memory_order_seq_cst); }
  // A new proxy of the array's lock, or null when created with lock=false.
  Ref<Object> guard_lock() const;
};

}  // namespace tide::shared
