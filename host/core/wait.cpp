#include "core/wait.hpp"

#include <linux/futex.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <climits>
#include <memory>

#include "core/error.hpp"

namespace tide {

namespace {

// Shared (not FUTEX_PRIVATE) operations, so the same word works when it
// lives in memory mapped by several processes.
std::atomic<std::uint64_t> g_futex_waits{0};
std::atomic<std::uint64_t> g_futex_wakes{0};

long futex_wait_abs(std::atomic<std::uint32_t>* addr, std::uint32_t val, const timespec* abs) {
  g_futex_waits.fetch_add(1, std::memory_order_relaxed);
  return syscall(SYS_futex, addr, FUTEX_WAIT_BITSET, val, abs, nullptr, FUTEX_BITSET_MATCH_ANY);
}
void futex_wake(std::atomic<std::uint32_t>* addr, int n) {
  g_futex_wakes.fetch_add(1, std::memory_order_relaxed);
  syscall(SYS_futex, addr, FUTEX_WAKE, n, nullptr, nullptr, 0);
}

thread_local WaitContext t_context;
std::atomic<bool> g_sigint{false};
std::atomic<std::uint64_t> g_sigint_count{0};  // every SIGINT ever noted (lock-free: signal-safe)
std::atomic<std::uint64_t> g_signals{0};  // bit sig-1: a signal for a Lua handler arrived
std::atomic<SignalDispatcher> g_dispatcher{nullptr};
std::atomic<WaitContext*> g_interruptible{nullptr};

// Guards WaitContext::waiting_on_ between the waiting thread leaving a wait
// and another thread bumping that word to cancel it.
struct SpinGuard {
  explicit SpinGuard(std::atomic<bool>& f) : f_(f) {
    while (f_.exchange(true, std::memory_order_acquire)) {
    }
  }
  ~SpinGuard() { f_.store(false, std::memory_order_release); }
  std::atomic<bool>& f_;
};

// Makes an eventfd readable; async-signal-safe.
void poke(int fd) noexcept {
  if (fd < 0) return;
  std::uint64_t one = 1;
  ssize_t r = write(fd, &one, sizeof one);
  (void)r;
}

}  // namespace

void WaitWord::notify_all() noexcept {
  seq.fetch_add(1, std::memory_order_seq_cst);
  if (waiters.load(std::memory_order_seq_cst) != 0) futex_wake(&seq, INT_MAX);
}

void WaitWord::notify_one() noexcept {
  seq.fetch_add(1, std::memory_order_seq_cst);
  if (waiters.load(std::memory_order_seq_cst) != 0) futex_wake(&seq, 1);
}

FutexCounts futex_counts() noexcept {
  return {g_futex_waits.load(std::memory_order_relaxed), g_futex_wakes.load(std::memory_order_relaxed)};
}

WaitContext& WaitContext::current() noexcept { return t_context; }

void WaitContext::request_cancel() noexcept {
  cancel_.store(true, std::memory_order_seq_cst);
  poke(wake_fd_.load(std::memory_order_seq_cst));
  SpinGuard g(wake_lock_);
  if (WaitWord* w = waiting_on_.load(std::memory_order_seq_cst)) {
    w->seq.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(&w->seq, INT_MAX);
  }
}

void WaitContext::set_interruptible(bool on) noexcept {
  interruptible_ = on;
  WaitContext* self = this;
  if (on)
    g_interruptible.store(this, std::memory_order_release);
  else  // never leave the SIGINT handler a context that may go away
    g_interruptible.compare_exchange_strong(self, nullptr, std::memory_order_acq_rel);
}

int WaitContext::wake_fd() {
  int fd = wake_fd_.load(std::memory_order_acquire);
  if (fd < 0) {
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw_os_error("eventfd", errno);
    wake_fd_.store(fd, std::memory_order_seq_cst);
  }
  return fd;
}

WaitContext::~WaitContext() {
  int fd = wake_fd_.exchange(-1);
  if (fd >= 0) close(fd);
}

void WaitContext::clear_cancel() noexcept { cancel_.store(false, std::memory_order_release); }

// True when this thread should run the signal dispatcher now: it is the
// interruptible one, a Lua state runs on it, it is not inside a handler,
// and a signal is pending. (Without a target or inside a handler the
// signals wait, and waits must sleep meanwhile rather than spin.)
bool dispatch_due(const WaitContext& ctx) noexcept {
  return ctx.interruptible_ && !ctx.dispatching_ && g_signals.load(std::memory_order_seq_cst) != 0 &&
         ctx.signal_target() != nullptr && g_dispatcher.load(std::memory_order_acquire) != nullptr;
}

void WaitContext::check() const {
  if (cancel_requested()) throw Error(ErrorKind::Cancelled, "the thread was cancelled");
  if (interruptible_ && sigint_pending(true)) throw Error(ErrorKind::Interrupted, "interrupted (SIGINT)");
  if (dispatch_due(*this)) g_dispatcher.load(std::memory_order_acquire)(signal_target());
}

bool wait_seq(WaitWord& word, std::uint32_t seen, const Deadline& deadline) {
  WaitContext& ctx = t_context;
  // Publish what we sleep on before re-checking the flags: a canceller that
  // misses the publication set its flag early enough for the check to see it;
  // one that sees it bumps the word, so the futex refuses to sleep.
  ctx.waiting_on_.store(&word, std::memory_order_seq_cst);
  word.waiters.fetch_add(1, std::memory_order_seq_cst);
  bool notified = true;
  bool pending = ctx.cancel_requested() || (ctx.interruptible_ && g_sigint.load(std::memory_order_seq_cst)) ||
                 dispatch_due(ctx);
  if (!pending) {
    timespec ts;
    const timespec* abs = nullptr;
    if (!deadline.is_never()) {
      ts = deadline.as_timespec();
      abs = &ts;
    }
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer runs signal handlers only at calls it intercepts, and
    // a raw futex syscall is not one: sleep in slices so SIGCHLD or SIGINT
    // handlers get to run. (Sanitizer builds only.)
    timespec slice = Deadline::after(0.05).as_timespec();
    if (!abs || slice.tv_sec < abs->tv_sec || (slice.tv_sec == abs->tv_sec && slice.tv_nsec < abs->tv_nsec)) abs = &slice;
#endif
    if (futex_wait_abs(&word.seq, seen, abs) == -1 && errno == ETIMEDOUT) notified = !deadline.passed();
  }
  word.waiters.fetch_sub(1, std::memory_order_seq_cst);
  {
    SpinGuard g(ctx.wake_lock_);
    ctx.waiting_on_.store(nullptr, std::memory_order_seq_cst);
  }
  ctx.check();
  return notified;
}

short wait_fd(int fd, short events, const Deadline& deadline) {
  pollfd p{fd, events, 0};
  return wait_fds(&p, 1, deadline) ? p.revents : 0;
}

int wait_fds(pollfd* fds, int n, const Deadline& deadline) {
  WaitContext& ctx = t_context;
  int wake = ctx.wake_fd();  // published before the flags are checked
  // The caller's descriptors plus the wake fd, in one poll.
  pollfd small[9];
  std::unique_ptr<pollfd[]> big;
  pollfd* all = small;
  if (n + 1 > 9) {
    big.reset(new pollfd[static_cast<std::size_t>(n) + 1]);
    all = big.get();
  }
  for (int i = 0; i < n; ++i) all[i] = {fds[i].fd, fds[i].events, 0};
  all[n] = {wake, POLLIN, 0};
  for (;;) {
    ctx.check();
    // A passed deadline still polls once (timeout 0 = "is it ready now?").
    int timeout_ms = -1;
    if (!deadline.is_never()) {
      auto left = deadline.at() - Deadline::Clock::now();
      timeout_ms = left <= Deadline::Clock::duration::zero()
                       ? 0
                       : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    int got = poll(all, static_cast<nfds_t>(n) + 1, timeout_ms);
    if (got < 0 && errno != EINTR) throw_os_error("poll", errno);
    if (got == 0 && deadline.passed()) return 0;
    if (got > 0 && all[n].revents) {
      std::uint64_t drained;
      ssize_t r = read(wake, &drained, sizeof drained);
      (void)r;
      --got;
    }
    if (got > 0) {
      ctx.check();
      for (int i = 0; i < n; ++i) fds[i].revents = all[i].revents;
      return got;
    }
  }
}

void note_sigint() noexcept {
  g_sigint_count.fetch_add(1, std::memory_order_seq_cst);
  g_sigint.store(true, std::memory_order_seq_cst);
  // Normally runs on the main thread itself (workers block SIGINT), so the
  // word it bumps cannot go away underneath it.
  if (WaitContext* ctx = g_interruptible.load(std::memory_order_acquire)) {
    poke(ctx->wake_fd_.load(std::memory_order_seq_cst));
    if (WaitWord* w = ctx->waiting_on_.load(std::memory_order_seq_cst)) {
      w->seq.fetch_add(1, std::memory_order_seq_cst);
      futex_wake(&w->seq, INT_MAX);
    }
  }
}

namespace {
// Signals whose disposition is the Lua-routing handler; a fork child reads
// it in reset_routed_signals.
std::atomic<std::uint64_t> g_routed{0};
}  // namespace

void mark_routed_signal(int sig, bool routed) noexcept {
  if (sig < 1 || sig > 64) return;
  const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
  if (routed)
    g_routed.fetch_or(bit);
  else
    g_routed.fetch_and(~bit);
}

void reset_routed_signals() noexcept {
  std::uint64_t bits = g_routed.exchange(0);
  for (int sig = 1; bits != 0; ++sig, bits >>= 1)
    if (bits & 1) signal(sig, SIG_DFL);
}

void note_signal(int sig) noexcept {
  if (sig < 1 || sig > 64) return;
  g_signals.fetch_or(std::uint64_t{1} << (sig - 1), std::memory_order_seq_cst);
  // The same wake-up as SIGINT's (see note_sigint for why this is safe).
  if (WaitContext* ctx = g_interruptible.load(std::memory_order_acquire)) {
    poke(ctx->wake_fd_.load(std::memory_order_seq_cst));
    if (WaitWord* w = ctx->waiting_on_.load(std::memory_order_seq_cst)) {
      w->seq.fetch_add(1, std::memory_order_seq_cst);
      futex_wake(&w->seq, INT_MAX);
    }
  }
}

int take_signal() noexcept {
  std::uint64_t bits = g_signals.load(std::memory_order_seq_cst);
  while (bits != 0) {
    std::uint64_t low = bits & (~bits + 1);
    if (g_signals.compare_exchange_weak(bits, bits & ~low, std::memory_order_seq_cst))
      return __builtin_ctzll(low) + 1;
  }
  return 0;
}

void repost_signal(int sig) noexcept {
  if (sig >= 1 && sig <= 64) g_signals.fetch_or(std::uint64_t{1} << (sig - 1), std::memory_order_seq_cst);
}

bool signals_pending() noexcept { return g_signals.load(std::memory_order_seq_cst) != 0; }

void set_signal_dispatcher(SignalDispatcher dispatcher) noexcept {
  g_dispatcher.store(dispatcher, std::memory_order_release);
}

void reset_signals_after_fork() noexcept {
  g_interruptible.store(nullptr, std::memory_order_seq_cst);
  t_context.interruptible_ = false;
  t_context.dispatching_ = false;
  g_sigint.store(false, std::memory_order_seq_cst);
  g_signals.store(0, std::memory_order_seq_cst);
}

WaitContext* interruptible_context() noexcept {
  return g_interruptible.load(std::memory_order_acquire);
}

std::uint64_t sigint_count() noexcept { return g_sigint_count.load(std::memory_order_seq_cst); }

bool sigint_pending(bool consume) noexcept {
  return consume ? g_sigint.exchange(false, std::memory_order_seq_cst)
                 : g_sigint.load(std::memory_order_seq_cst);
}

void sleep_for(double seconds) {
  WaitWord w;
  Deadline d = Deadline::after(seconds);
  WaitContext::current().check();
  while (!d.passed()) wait_seq(w, w.seq.load(std::memory_order_acquire), d);
}

}  // namespace tide
