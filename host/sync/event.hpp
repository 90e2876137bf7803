// tide.sync.Event (API.md §3): a flag and the one wait mechanism.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "core/wait.hpp"
#include "shm/shared.hpp"

namespace tide::sync {

struct EventData {
  shm::SharedHeader header;
  std::atomic<std::uint32_t> flag{0};
  std::atomic<std::uint32_t> sets{0};  // bumped by every set()
  WaitWord word;
  EventData() noexcept { header.type = shm::SharedType::Event; }
};

class Event final : public shm::SharedObject {
 public:
  static constexpr const char* kTypeName = "tide.Event";
  static Ref<Event> create();
  explicit Event(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  EventData& data() const noexcept;
  void set() noexcept;
  void clear() noexcept { data().flag.store(0, std::memory_order_seq_cst); }
  bool is_set() const noexcept { return data().flag.load(std::memory_order_acquire) != 0; }
  // true once the flag is set, or if a set() happened during the wait
  // (even if cleared since, as in Python); false at the deadline.
  bool wait(const Deadline& deadline);
};

}  // namespace tide::sync
