// Helpers of the sync unit tests (sync_test.cpp, sync_process_test.cpp).
#pragma once
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "test_util.hpp"
#include "shared_values/array.hpp"
#include "shared_values/value.hpp"
#include "shm/owner.hpp"
#include "sync/barrier.hpp"
#include "sync/condition.hpp"
#include "sync/event.hpp"
#include "sync/lock.hpp"
#include "sync/rlock.hpp"
#include "sync/semaphore.hpp"

using namespace std::chrono_literals;
using tide::Deadline;
using tide::ErrorKind;
using tide::Ref;
using namespace tide::sync;
using tide::shared::Array;
using tide::shared::ScalarType;
using tide::shared::Value;

namespace sync_test {

using namespace test_util;




// Yields until `n` threads sleep on `w` (a hang detector, not an ordering sleep).
inline bool await_sleepers(const tide::WaitWord& w, std::uint32_t n) { return await_waiters(w, n, 10s); }

inline const Deadline kNever = Deadline::never();
inline Deadline now() { return Deadline::after(0); }

// Runs `child` in a fork()ed child, which _exit()s with its result.
template <class F>
pid_t spawn_child(F&& child) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 99;
    try {
      code = child();
    } catch (...) {
      code = 98;
    }
    _exit(code);
  }
  return pid;
}

inline int reap(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

inline bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

}  // namespace sync_test

using namespace sync_test;
