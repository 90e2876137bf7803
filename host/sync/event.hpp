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
  // Bit 0: the flag. Above it: how many set() calls there were. One word,
  // so a waiter never sees a set() half done: with two, a waiter could see
  // the flag, return, clear it, and then see the late count bump of that
  // same set() as a new one during its next wait (a ping-pong between two
  // processes went out of step that way).
  std::atomic<std::uint32_t> state{0};
  static constexpr std::uint32_t kFlag = 1, kOneSet = 2;
  WaitWord word;
  EventData() noexcept { header.type = shm::SharedType::Event; }
};

class Event final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Event";
  static Ref<Event> create();
  explicit Event(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  EventData& data() const noexcept;
  void set() noexcept;
  void clear() noexcept { data().state.fetch_and(~EventData::kFlag, std::memory_order_seq_cst); }
  bool is_set() const noexcept { return (data().state.load(std::memory_order_acquire) & EventData::kFlag) != 0; }
  // true once the flag is set, or if a set() happened during the wait
  // (even if cleared since, as in Python); false at the deadline.
  bool wait(const Deadline& deadline);
};

}  // namespace tide::sync
