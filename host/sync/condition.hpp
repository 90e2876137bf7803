// tide.sync.Condition (API.md §3) over a Lock or an RLock (by default a new
// RLock). The condition refers to its lock by arena offset and holds one
// shared reference to it.
//
// wait(): the WaitWord's sequence is read while the lock is still held,
// then the lock is released fully (an RLock's recursion count is saved),
// and the waiter sleeps until the sequence moves (a notify) or the
// deadline; then it takes the lock back. Notifiers must hold the lock, so a
// notify can never fall between the read and the sleep: no lost wake-up.
// Spurious wake-ups are possible (as in Python).
#pragma once
#include <cstdint>

#include "core/deadline.hpp"
#include "core/wait.hpp"
#include "shm/shared.hpp"

namespace tide::sync {

struct ConditionData {
  shm::SharedHeader header;
  shm::Offset lock = 0;  // LockData or RLockData; one shared reference
  shm::SharedType lock_type = shm::SharedType::RLock;
  std::uint32_t reserved2 = 0;
  WaitWord word;
  ConditionData() noexcept { header.type = shm::SharedType::Condition; }
};

void destroy_condition(shm::SharedHeader* h) noexcept;

class Condition final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Condition";
  // `lock` is a Lock or RLock proxy, or nullptr for a new RLock.
  // ArgumentError for any other object.
  static Ref<Condition> create(shm::SharedObject* lock);
  explicit Condition(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  ConditionData& data() const noexcept;
  // A new proxy of the underlying lock.
  Ref<Object> lock_object() const;
  bool lock_is_rlock() const noexcept { return data().lock_type == shm::SharedType::RLock; }

  bool lock(const Deadline& deadline);
  void unlock();
  bool locked() const noexcept;
  bool owned() const;
  // false at the deadline. InvalidState unless the lock is held.
  bool wait(const Deadline& deadline);
  // Wakes up to n waiters (at least those asleep at the call). InvalidState
  // unless the lock is held.
  void notify(std::uint64_t n);
  void notify_all();

 private:
  shm::SharedHeader* lock_header() const noexcept;
};

}  // namespace tide::sync
