// tide.sync.Barrier (API.md §3), Python's algorithm: parties arrive while
// the barrier is filling; the last one runs the action and lets everyone go
// (draining); the barrier refills once all have left. A timeout, an abort,
// a failing action or a party cancelled while waiting breaks it
// (BrokenBarrier for everyone waiting and for later waits until reset()).
//
// The state is guarded by an inner lock (never held across a wait or the
// action) and every change is announced on one WaitWord.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>

#include "core/deadline.hpp"
#include "core/wait.hpp"
#include "shm/shared.hpp"
#include "sync/lock_core.hpp"

namespace tide::sync {

// Parties whose process is killed while inside wait() would never leave
// (the round could not drain) and one killed running the action would
// never finish it: each party inside is recorded by its process's owner
// token (up to kTrackedParties of them), and waiters that have waited half
// a second reap the dead (barrier.cpp).
inline constexpr int kTrackedParties = 64;

struct BarrierData {
  shm::SharedHeader header;
  LockCore mu;
  WaitWord changed;
  std::int32_t parties = 0;
  std::atomic<std::int32_t> count{0};
  std::atomic<std::int32_t> state{0};  // see barrier.cpp
  std::int32_t reserved2 = 0;
  double timeout = -1;     // default for wait(); < 0: none
  shm::Offset action = 0;  // a stored message (shm/stored_message.hpp), owned
  std::uint64_t acting = 0;                  // under mu: owner running the action
  std::uint64_t inside[kTrackedParties] = {};  // under mu: owners of parties inside, 0 = free
  BarrierData(std::int32_t n, double t, shm::Offset a) noexcept : parties(n), timeout(t), action(a) {
    header.type = shm::SharedType::Barrier;
  }
};

void destroy_barrier(shm::SharedHeader* h) noexcept;

class Barrier final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Barrier";
  using Action = std::function<bool()>;  // false: the action failed

  // ArgumentError unless 1 <= parties <= INT32_MAX. Takes ownership of
  // `action` (a stored message, 0 for none) even when it throws.
  static Ref<Barrier> create(std::int64_t parties, double timeout, shm::Offset action);
  explicit Barrier(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  BarrierData& data() const noexcept;
  // Arrival index 0..parties-1, or -1 when this party ran the action and it
  // failed (the barrier is then broken). `deadline` nullptr: the barrier's
  // own timeout. `action` runs in the last party when the barrier has one.
  // Throws BrokenBarrier, Cancelled, Interrupted.
  std::int64_t wait(const Deadline* deadline, const Action* action);
  void reset();
  void abort();

  std::int32_t parties() const noexcept { return data().parties; }
  std::int32_t n_waiting() const noexcept;
  bool broken() const noexcept;
  shm::Offset action() const noexcept { return data().action; }
};

}  // namespace tide::sync
