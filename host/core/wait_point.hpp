// The one wake discipline for a waitable state many threads or processes
// wait on (a queue's items or room, a pool's work, a semaphore's count): a
// WaitWord plus
//  - `announced`: how many waiters are between announce() and withdraw().
//    A notifier that sees none makes no system call and writes nothing: it
//    pays a fence and a read of a line only waiters write.
//  - `wake_pending`: a wake-up was sent and no waiter has looked at the
//    state since. While it is set, notify_one() does nothing, so a woken
//    waiter that has not run yet does not draw a second FUTEX_WAKE from
//    every change made meanwhile (at most one wake in flight).
// Every waiter clears `wake_pending` before each look at the state
// (store-buffering, fenced on both sides):
//   notifier: change state; fence; if announced && !pending: pending = 1, wake one
//   waiter:   announced++; loop { pending = 0; fence; look; sleep on seq }
// so a change made while the flag is set is seen by the next look, which
// some waiter makes: the woken one, or any other that looks first (a wake
// reaches a thread asleep on the word, or bumps `seq` so a thread about to
// sleep does not). A waiter that leaves without looking (Cancelled,
// Interrupted) passes the wake on; one that takes an item and sees more
// passes the baton (pass_on) so several sleeping consumers are woken one
// after another, each by the one before it, never all at once.
// tests/host/wait_point_model_test.cpp checks this protocol exhaustively.
// Under ThreadSanitizer (which does not model fences) notifiers always take
// WaitWord's own path, which is correct without them, only not coalesced.
//
// Standard layout, atomics only: it may live in the shared arena.
#pragma once
#include <sched.h>

#include <atomic>
#include <cstdint>

#include "core/deadline.hpp"
#include "core/spin.hpp"
#include "core/wait.hpp"

namespace tide {

struct WaitPoint {
  WaitWord word;
  std::atomic<std::uint32_t> announced{0};
  std::atomic<std::uint32_t> wake_pending{0};
  AdaptiveSpin spin;  // waiters spin this long before announcing

  // After changing the state: wakes one waiter unless none waits or a
  // wake-up is already on its way.
  void notify_one() noexcept {
#if defined(__SANITIZE_THREAD__)
    // TSan does not model fences (GCC refuses them there): always take
    // WaitWord's own path, which needs none (no coalescing under TSan).
    word.notify_one();
    return;
#endif
    fence();
    if (announced.load(std::memory_order_relaxed) == 0) return;
    if (wake_pending.load(std::memory_order_relaxed) != 0) return;
    if (wake_pending.exchange(1, std::memory_order_seq_cst) == 0) word.notify_one();
  }
  // After a change every waiter must see (close, stop).
  void notify_all() noexcept {
#if defined(__SANITIZE_THREAD__)
    word.notify_all();
#else
    fence();
    if (announced.load(std::memory_order_relaxed) != 0) word.notify_all();
#endif
  }
  // A waiter that got what it waited for and sees more of it there: wakes
  // the next waiter (costs nothing when nobody else waits).
  void pass_on() noexcept { notify_one(); }

  // Waits until pred() holds (true) or the deadline passes (false): spins
  // first, then sleeps. pred must only read state notifiers change before
  // notifying. Throws Cancelled / Interrupted, passing on a wake-up it may
  // have consumed.
  template <class Pred>
  bool wait(const Deadline& d, Pred&& pred) {
    // A producer and a consumer at the same pace would otherwise pay a
    // futex wake and a context switch per item.
    if (spin.spin(pred)) return true;
    // With no idle core (one CPU, or a busy machine) the thread we wait for
    // is likely runnable but not running: yielding lets it run a slice and
    // fill the queue, where sleeping costs it a futex wake per item batch
    // and both of us a context switch (W2 on one CPU: 100x fewer switches,
    // +20%). With an idle core it is one cheap system call.
    sched_yield();
    if (pred()) return true;
    announced.fetch_add(1, std::memory_order_seq_cst);
    bool ok;
    try {
      ok = wait_until(word, d, [&] {
        wake_pending.store(0, std::memory_order_seq_cst);
        fence();
        return pred();
      });
    } catch (...) {
      announced.fetch_sub(1, std::memory_order_seq_cst);
      wake_pending.store(0, std::memory_order_seq_cst);
      notify_one();
      throw;
    }
    announced.fetch_sub(1, std::memory_order_seq_cst);
    return ok;
  }

 private:
  static void fence() noexcept {
#if !defined(__SANITIZE_THREAD__)
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }
};

}  // namespace tide
