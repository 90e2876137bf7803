// The one wait mechanism (DESIGN.md mechanism 3). Every blocking call in
// every module waits on a WaitWord: a futex sequence counter that notifiers
// bump after changing the state the waiter is interested in. A wait ends on
// a notify, at the deadline, when the waiting thread is cancelled, or on
// SIGINT when it is the main thread (which also runs tide.signal handlers
// from its waits, see note_signal). WaitWord is standard-layout with no
// pointers, so it can live in memory shared between processes.
#pragma once
#include <atomic>
#include <cstdint>

struct pollfd;

#include "core/deadline.hpp"

namespace tide {

struct WaitWord {
  std::atomic<std::uint32_t> seq{0};
  std::atomic<std::uint32_t> waiters{0};

  // Call after changing the guarded state. Costs no system call when
  // nobody waits.
  void notify_all() noexcept;
  void notify_one() noexcept;
};

// How many futex wait and wake system calls this process has made (all
// threads): the benchmarks report wake system calls per item with it.
struct FutexCounts {
  std::uint64_t waits, wakes;
};
FutexCounts futex_counts() noexcept;

// Per-OS-thread cancellation/interrupt state.
class WaitContext {
 public:
  static WaitContext& current() noexcept;

  // Requests cancellation: the thread's current or next wait throws
  // Cancelled. Safe from any thread while `this` is alive.
  void request_cancel() noexcept;
  void clear_cancel() noexcept;
  bool cancel_requested() const noexcept { return cancel_.load(std::memory_order_acquire); }

  // What a cancel signal on this thread should act on (the runtime stores
  // the running lua_State here). Kept in the context, not in a thread_local
  // of its own, because the signal handler may only touch TLS that the
  // thread has already used.
  void set_signal_target(void* target) noexcept { signal_target_.store(target, std::memory_order_release); }
  void* signal_target() const noexcept { return signal_target_.load(std::memory_order_acquire); }

  // Marks this thread as the one SIGINT interrupts (the main state's).
  void set_interruptible(bool on) noexcept;
  bool interruptible() const noexcept { return interruptible_; }

  // Throws Cancelled or Interrupted if one is pending (consuming SIGINT).
  // On the interruptible thread, then runs the signal dispatcher if
  // signals are pending (which may throw what a handler raised).
  void check() const;

  // Set while the dispatcher (or the runtime's hook) runs handlers on this
  // thread: waits inside a handler neither dispatch again nor spin on the
  // signals still pending; those run after the handler returns.
  void set_dispatching(bool on) noexcept { dispatching_ = on; }
  bool dispatching() const noexcept { return dispatching_; }

  // An eventfd made readable by request_cancel() and SIGINT, so waits on
  // file descriptors (wait_fd) end for the same reasons futex waits do.
  // Created on first use by the owning thread.
  int wake_fd();
  ~WaitContext();

 private:
  friend bool wait_seq(WaitWord&, std::uint32_t, const Deadline&);
  friend void note_sigint() noexcept;
  friend void note_signal(int) noexcept;
  friend bool dispatch_due(const WaitContext&) noexcept;
  friend void reset_signals_after_fork() noexcept;
  std::atomic<bool> cancel_{false};
  std::atomic<WaitWord*> waiting_on_{nullptr};
  std::atomic<bool> wake_lock_{false};  // spinlock: canceller vs. wait exit
  std::atomic<void*> signal_target_{nullptr};
  std::atomic<int> wake_fd_{-1};
  bool interruptible_ = false;
  bool dispatching_ = false;
};

// Blocks while word.seq == seen, until notified (true) or the deadline
// passes (false). Spurious returns are allowed: callers loop on their
// condition. Throws Cancelled / Interrupted.
bool wait_seq(WaitWord& word, std::uint32_t seen, const Deadline& deadline);

// Waits until pred() holds; false on timeout. The one loop every module uses:
//   seq snapshot -> check pred -> sleep on the futex -> repeat.
template <class Pred>
bool wait_until(WaitWord& word, const Deadline& deadline, Pred&& pred) {
  for (;;) {
    std::uint32_t seen = word.seq.load(std::memory_order_acquire);
    if (pred()) return true;
    if (deadline.passed()) return false;
    wait_seq(word, seen, deadline);
  }
}

// Waits until `fd` is ready for `events` (poll(2) POLLIN/POLLOUT); returns
// the revents, or 0 at the deadline. Throws Cancelled / Interrupted like
// every wait. An invalid fd returns POLLNVAL for the caller to report.
short wait_fd(int fd, short events, const Deadline& deadline);

// The same for several descriptors at once (tide.pipe.wait): fills each
// fds[i].revents and returns how many are ready, or 0 at the deadline.
int wait_fds(struct pollfd* fds, int n, const Deadline& deadline);

// The context SIGINT interrupts (the main thread's), or nullptr.
WaitContext* interruptible_context() noexcept;

// SIGINT: the host's signal handler calls this; it is async-signal-safe.
void note_sigint() noexcept;
// True (and consumed when `consume`) if a SIGINT arrived since the last take.
bool sigint_pending(bool consume) noexcept;
// How many SIGINTs were noted since the process started, consumed or not:
// a caller that swallows Interrupted (host exit joining threads) can still
// tell that Ctrl-C came.
std::uint64_t sigint_count() noexcept;

// tide.signal: the C handler of a signal that has a Lua handler calls
// note_signal (async-signal-safe). It records the signal and wakes the
// interruptible thread's wait exactly as SIGINT does; that thread's waits
// then call the dispatcher the runtime installed, with its signal target
// (the running lua_State), at their next check(): the safe point where Lua
// handlers run. The dispatcher may throw; the wait then ends with that.
void note_signal(int sig) noexcept;
// Which signals the OS routes to note_signal (set with their disposition).
// A fork child that runs fresh states (tide.process) has none of the Lua
// handlers: reset_routed_signals puts those signals back to SIG_DFL.
// Async-signal-safe (sigaction only).
void mark_routed_signal(int sig, bool routed) noexcept;
void reset_routed_signals() noexcept;
// Takes (clears) the lowest-numbered pending signal; 0 if none.
int take_signal() noexcept;
// Puts a taken signal back (its handler could not run yet).
void repost_signal(int sig) noexcept;
bool signals_pending() noexcept;
using SignalDispatcher = void (*)(void* target);
void set_signal_dispatcher(SignalDispatcher dispatcher) noexcept;

// A fork child that runs fresh Lua states (tide.process) starts with no
// main-state context (the parent's may belong to a thread that does not
// exist here) and no pending SIGINT or signals.
void reset_signals_after_fork() noexcept;

// Sleeps for `seconds` through the same path (cancellable, interruptible).
void sleep_for(double seconds);

}  // namespace tide
