// fork() while other threads allocate: the child's first mallocs must not
// find a lock held by a thread it does not have (core/asan_fork.cpp: GCC
// 12's AddressSanitizer runtime left its allocator to us).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/asan_fork.hpp"
#include "test_util.hpp"

namespace {

// Waits for `pid` at most `seconds`; kills it and returns false after.
bool reaped(pid_t pid, double seconds) {
  auto t0 = test_util::Clock::now();
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (test_util::seconds_since(t0) > seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

TEST_CASE("a fork child allocates freely while the parent's other threads were allocating") {
#if defined(__SANITIZE_ADDRESS__)
  REQUIRE(tide::fork_safe::sanitizer_locks_found());
#endif
  // GCC 12's ThreadSanitizer runtime does not lock its allocator around
  // fork() either, and has no internal function that would (ASan's, found
  // by core/asan_fork.cpp, has): under TSan the threads stand still while
  // the parent forks, as the specs' forks do (scripts/test.sh), so the
  // child still starts among the parent's threads but not inside its
  // allocator.
#if defined(__SANITIZE_THREAD__)
  constexpr bool kPauseToFork = true;
#else
  constexpr bool kPauseToFork = false;
#endif
  std::atomic<bool> stop{false}, pause{false};
  std::atomic<int> paused{0};
  std::vector<std::thread> churn;
  for (int t = 0; t < 2; ++t)
    churn.emplace_back([&stop, &pause, &paused, t] {
      // Every size class in turn, so some thread is often refilling or
      // draining its cache of the class the child asks for next.
      std::vector<void*> held(64, nullptr);
      for (unsigned i = t; !stop.load(std::memory_order_relaxed); ++i) {
        if (pause.load(std::memory_order_acquire)) {
          paused.fetch_add(1, std::memory_order_acq_rel);
          while (pause.load(std::memory_order_acquire)) std::this_thread::yield();
          paused.fetch_sub(1, std::memory_order_acq_rel);
        }
        void*& slot = held[i % held.size()];
        std::free(slot);
        slot = std::malloc(16 + (i * 40) % 4096);
      }
      for (void* p : held) std::free(p);
    });
  const int forks = test_util::kSanitized ? 40 : 200;
  int hung = 0;
  for (int i = 0; i < forks; ++i) {
    if (kPauseToFork) {
      pause.store(true, std::memory_order_release);
      while (paused.load(std::memory_order_acquire) < 2) std::this_thread::yield();
    }
    pid_t pid = fork();
    if (kPauseToFork && pid != 0) pause.store(false, std::memory_order_release);
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::vector<void*> mine;
      for (unsigned k = 0; k < 300; ++k) mine.push_back(std::malloc(16 + (k * 40) % 4096));
      for (void* p : mine) std::free(p);
      _exit(0);
    }
    if (!reaped(pid, 20)) ++hung;
  }
  stop = true;
  for (auto& t : churn) t.join();
  CHECK(hung == 0);
}
