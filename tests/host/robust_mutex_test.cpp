// shm::RobustMutex: mutual exclusion between threads and processes, and the
// take-over of a mutex whose holder's process died (killed while a waiter
// was already blocked, or a zombie nobody has reaped).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <thread>
#include <vector>

#include "shm/robust_mutex.hpp"

using tide::shm::RobustLock;
using tide::shm::RobustMutex;

namespace {

// A mutex and a counter in memory a fork child shares.
struct Shared {
  RobustMutex m;
  long counter = 0;  // guarded by m
  std::atomic<int> child_holds{0};
};

Shared* map_shared() {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  auto* s = new (p) Shared();
  s->m.init();
  return s;
}

// A child that takes the mutex, says so, and waits to be killed.
pid_t child_holding(Shared* s) {
  pid_t pid = fork();
  if (pid == 0) {
    s->m.lock();
    s->child_holds.store(1);
    for (;;) pause();
  }
  REQUIRE(pid > 0);
  while (s->child_holds.load() == 0) sched_yield();
  return pid;
}

}  // namespace

TEST_SUITE("robust mutex") {

TEST_CASE("four threads and a process count exactly under it") {
  Shared* s = map_shared();
  constexpr int kPer = 20000;
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < kPer; ++i) {
      RobustLock lk(s->m);
      ++s->counter;
    }
    _exit(0);
  }
  REQUIRE(child > 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([s] {
      for (int i = 0; i < kPer; ++i) {
        RobustLock lk(s->m);
        ++s->counter;
      }
    });
  for (auto& t : ts) t.join();
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(s->counter == 5 * kPer);
  munmap(s, sizeof(Shared));
}

TEST_CASE("a waiter blocked when the holder's process is killed takes the mutex over, and says so") {
  Shared* s = map_shared();
  pid_t child = child_holding(s);
  std::atomic<int> recovered{-1};
  std::thread waiter([&] { recovered.store(s->m.lock() ? 1 : 0); });
  CHECK(recovered.load() == -1);  // still blocked: the holder lives
  kill(child, SIGKILL);
  waiter.join();  // no reaping first: a zombie holder counts as dead
  CHECK(recovered.load() == 1);
  s->m.unlock();
  CHECK_FALSE(s->m.lock());  // an ordinary lock from here on
  s->m.unlock();
  waitpid(child, nullptr, 0);
  munmap(s, sizeof(Shared));
}

TEST_CASE("try_lock: refused while a live process holds it, taken once that process is gone") {
  Shared* s = map_shared();
  pid_t child = child_holding(s);
  CHECK_FALSE(s->m.try_lock());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  CHECK(s->m.try_lock());
  CHECK_FALSE(s->m.try_lock());  // held by this live process now
  s->m.unlock();
  munmap(s, sizeof(Shared));
}

}  // TEST_SUITE
