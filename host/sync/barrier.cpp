#include "sync/barrier.hpp"

#include "core/error.hpp"
#include "shm/owner.hpp"
#include "shm/stored_message.hpp"
#include "sync/proxy.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kBarrierType{shm::SharedType::Barrier, {destroy_barrier, shm::proxy_of<Barrier>}};
}  // namespace

namespace {

// Python's states, plus Acting: the action runs with the inner lock free.
enum : std::int32_t { kFilling = 0, kDraining = 1, kActing = 2, kResetting = -1, kBroken = -2 };

// How often a waiter looks for parties that died inside (seconds): the
// same pace at which lock waiters look for a dead owner.
constexpr double kReapEvery = 0.5;

// The inner lock, held while this object is in scope (except inside
// wait_for and around the action). Never throws: its critical sections are
// a few stores.
class Inner {
 public:
  explicit Inner(BarrierData& b) : b_(b), me_(process_owner()) { lock(); }
  ~Inner() {
    if (held_) b_.mu.unlock();
  }
  void lock() noexcept {
    b_.mu.lock_uninterruptible(me_);  // an abandoned inner lock is simply taken
    held_ = true;
  }
  void unlock() noexcept {
    held_ = false;
    b_.mu.unlock();
  }
  std::uint64_t owner() const noexcept { return me_; }
  std::int32_t state() const noexcept { return b_.state.load(std::memory_order_relaxed); }
  void set_state(std::int32_t s) noexcept {
    b_.state.store(s, std::memory_order_relaxed);
    b_.changed.notify_all();
  }

  // With the lock held: waits (lock released) until pred() or the deadline;
  // returns pred(). Holds the lock again on return and when throwing.
  // Every kReapEvery seconds of waiting it reaps the dead (reap_dead).
  template <class P>
  bool wait_for(const Deadline& d, P pred) {
    for (;;) {
      if (pred()) return true;
      std::uint32_t seen = b_.changed.seq.load(std::memory_order_seq_cst);
      unlock();
      Deadline slice = Deadline::after(kReapEvery);
      bool sliced = slice.at() < d.at();
      bool moved;
      try {
        moved = wait_until(b_.changed, sliced ? slice : d,
                           [&] { return b_.changed.seq.load(std::memory_order_acquire) != seen; });
      } catch (...) {
        lock();
        throw;
      }
      lock();
      if (!moved && sliced) {
        reap_dead();
        continue;
      }
      if (!moved) return pred();
    }
  }

  // A party inside records its owner here, so its death can be noticed;
  // -1 when the table is full (that party is then not reaped if it dies).
  int enter() noexcept {
    for (int i = 0; i < kTrackedParties; ++i) {
      if (b_.inside[i] == 0) {
        b_.inside[i] = me_;
        return i;
      }
    }
    return -1;
  }

  // A party leaves; the last one out of a draining or resetting round lets
  // the barrier refill.
  void leave(int slot) noexcept {
    if (slot >= 0) b_.inside[slot] = 0;
    if (b_.count.fetch_sub(1, std::memory_order_relaxed) == 1 && (state() == kDraining || state() == kResetting))
      set_state(kFilling);
  }

  // Leaves for the parties whose process died inside wait(), and breaks
  // the barrier if the one running the action died.
  void reap_dead() noexcept {
    for (int i = 0; i < kTrackedParties; ++i) {
      std::uint64_t t = b_.inside[i];
      if (t != 0 && t != me_ && !shm::token_alive(t)) {
        leave(i);
        b_.changed.notify_all();
      }
    }
    if (state() == kActing && b_.acting != me_ && b_.acting != 0 && !shm::token_alive(b_.acting)) set_state(kBroken);
  }

 private:
  BarrierData& b_;
  std::uint64_t me_;
  bool held_ = false;
};

[[noreturn]] void throw_broken(const char* why) { throw Error(ErrorKind::BrokenBarrier, why); }

}  // namespace

void destroy_barrier(shm::SharedHeader* h) noexcept { shm::free_message(data_at<BarrierData>(h).action); }

Ref<Barrier> Barrier::create(std::int64_t parties, double timeout, shm::Offset action) {
  if (parties < 1 || parties > INT32_MAX) {
    shm::free_message(action);
    throw Error(ErrorKind::ArgumentError, "a Barrier needs at least 1 party");
  }
  try {
    return make_shared_proxy<Barrier, BarrierData>(static_cast<std::int32_t>(parties), timeout, action);
  } catch (...) {
    shm::free_message(action);
    throw;
  }
}

BarrierData& Barrier::data() const noexcept { return data_of<BarrierData>(*this); }

std::int64_t Barrier::wait(const Deadline* deadline, const Action* action) {
  BarrierData& b = data();
  Deadline d = deadline ? *deadline : b.timeout < 0 ? Deadline::never() : Deadline::after(b.timeout);
  Inner g(b);
  // Wait while the previous round drains or a reset completes (the timeout
  // counts here too: a round that never drains breaks the barrier).
  bool entered = g.wait_for(d, [&] {
    std::int32_t s = g.state();
    return s != kDraining && s != kResetting && s != kActing;
  });
  if (!entered) {
    g.set_state(kBroken);
    throw_broken("the barrier timed out");
  }
  if (g.state() < 0) throw_broken("the barrier is broken");
  std::int32_t index = b.count.fetch_add(1, std::memory_order_relaxed);
  int slot = g.enter();
  auto leave = [&] { g.leave(slot); };
  auto breaks = [&] { g.set_state(kBroken); };
  std::int64_t result = index;
  try {
    if (index + 1 == b.parties) {
      if (b.action && action) {
        b.acting = g.owner();
        g.set_state(kActing);
        g.unlock();
        bool ok;
        try {
          ok = (*action)();
        } catch (...) {
          g.lock();
          b.acting = 0;
          breaks();
          throw;
        }
        g.lock();
        b.acting = 0;
        if (g.state() == kBroken) ok = false;  // reaped as dead meanwhile (cannot be: we live), or aborted
        if (!ok) {
          breaks();
          result = -1;
        }
      }
      if (result >= 0) g.set_state(kDraining);
    } else {
      auto released = [&] {
        std::int32_t s = g.state();
        return s != kFilling && s != kActing;
      };
      bool ok;
      try {
        ok = g.wait_for(d, released);
        // Timed out while the action runs: its outcome decides (Python
        // holds the lock during the action, so its waiters see it too).
        if (!ok && g.state() == kActing) ok = g.wait_for(Deadline::never(), released);
      } catch (...) {
        breaks();  // a cancelled party will never arrive
        throw;
      }
      if (!ok) {
        breaks();
        throw_broken("the barrier timed out");
      }
      if (g.state() < 0) throw_broken("the barrier was broken or reset");
    }
  } catch (...) {
    leave();
    throw;
  }
  leave();
  return result;
}

void Barrier::reset() {
  BarrierData& b = data();
  Inner g(b);
  g.wait_for(Deadline::never(), [&] { return g.state() != kActing; });
  if (b.count.load(std::memory_order_relaxed) > 0) {
    if (g.state() == kFilling || g.state() == kBroken) g.set_state(kResetting);
  } else {
    g.set_state(kFilling);
  }
  b.changed.notify_all();
}

void Barrier::abort() {
  Inner g(data());
  g.wait_for(Deadline::never(), [&] { return g.state() != kActing; });
  g.set_state(kBroken);
}

std::int32_t Barrier::n_waiting() const noexcept {
  const BarrierData& b = data();
  std::int32_t s = b.state.load(std::memory_order_relaxed);
  return s == kFilling || s == kActing ? b.count.load(std::memory_order_relaxed) : 0;
}

bool Barrier::broken() const noexcept { return data().state.load(std::memory_order_relaxed) == kBroken; }

}  // namespace tide::sync
