#include "async/bridge.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "core/error.hpp"

namespace tide::async {

Bridge::Bridge(WaitWord& target) : target_(target), owner_(getpid()) {
  evfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (evfd_ < 0) throw_os_error("eventfd", errno);
  // Every signal blocked, as for tide's worker threads: SIGINT must reach
  // the main thread, and the bridge runs no Lua a cancel signal could stop.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&thread_, nullptr, &Bridge::main, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    close(evfd_);
    throw_os_error("pthread_create", rc);
  }
}

Bridge::~Bridge() {
  stop_.store(true, std::memory_order_seq_cst);
  control_.notify_all();
  target_.notify_all();
  pthread_join(thread_, nullptr);
  close(evfd_);
}

bool Bridge::made_here() const noexcept { return owner_ == getpid(); }

void Bridge::abandon(Bridge* b) noexcept {
  // The eventfd is shared with the parent's bridge: reading it here would
  // steal the parent's wake-ups.
  close(b->evfd_);
  b->evfd_ = -1;
}

void Bridge::arm(std::uint32_t seen) noexcept {
  seen_.store(seen, std::memory_order_relaxed);
  armed_.store(1, std::memory_order_release);
  control_.notify_all();
}

void Bridge::disarm() noexcept {
  armed_.store(0, std::memory_order_release);
  target_.notify_all();  // a bridge asleep on the word goes back to control_
  std::uint64_t n;
  ssize_t r = read(evfd_, &n, sizeof n);
  (void)r;
}

void* Bridge::main(void* self) noexcept {
  static_cast<Bridge*>(self)->run();
  return nullptr;
}

void Bridge::run() noexcept {
  for (;;) {
    std::uint32_t c = control_.seq.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    if (!armed_.load(std::memory_order_acquire)) {
      try {
        wait_seq(control_, c, Deadline::never());
      } catch (...) {  // this thread is never cancelled nor interruptible
      }
      continue;
    }
    std::uint32_t seen = seen_.load(std::memory_order_relaxed);
    if (target_.seq.load(std::memory_order_acquire) == seen) {
      try {
        wait_seq(target_, seen, Deadline::never());
      } catch (...) {
      }
      continue;  // re-check: disarmed, stopped, or the word moved
    }
    std::uint32_t one = 1;
    if (armed_.compare_exchange_strong(one, 0, std::memory_order_acq_rel)) {
      std::uint64_t v = 1;
      ssize_t r = write(evfd_, &v, sizeof v);
      (void)r;
    }
  }
}

}  // namespace tide::async
