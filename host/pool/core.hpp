// Private to host/pool: the pool core shared by thread_pool.cpp (lifecycle,
// thread workers) and process_worker.cpp (process workers' supervisors).
#pragma once
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/wait.hpp"
#include "pool/fd_channel.hpp"
#include "pool/thread_pool.hpp"
#include "thread/thread.hpp"

namespace tide::pool {

// Lock order: Core::m, then PoolData::m. The stop flags live in PoolData
// (workers in other processes read them); they change only while Core::m
// is held too, so a worker entering its loop (enter()) and stop() agree on
// whether it must be cancelled.
struct Core : std::enable_shared_from_this<Core> {
  Options opt;
  pid_t pid = 0;  // a fork child has none of these workers
  Ref<PoolShared> shared;
  Ref<future::Future> init_failure;  // process workers: the first initializer error
  std::vector<Message> payloads;     // process workers: what slot i's process runs
  std::vector<fd_channel::Pair> channels;  // process workers: slot i's descriptor channel

  std::mutex m;  // guards the fields up to `exited`
  std::vector<Ref<Thread>> threads;    // live workers / supervisors (cycle broken as they exit)
  std::vector<Ref<Thread>> finishing;  // exited ones whose Thread may not have finished yet
  // Workers inside their loop: the only ones terminate() may cancel (a
  // Thread cancelled before its body starts never runs it, so would never
  // report its exit); the others see kTerminate on entry and leave.
  std::vector<Thread*> entered;
  int live = 0;
  int next_index = 0;  // names: "<pool>_<n>"
  bool broken = false;
  Outcome broken_outcome;  // BrokenPool, text "pool 'X' is broken: ...", the cause
  WaitWord exited;         // a worker exited

  ~Core();

  void start_worker(int slot);
  std::string next_name();
  // Registers a worker entering its loop; false if it must leave at once.
  bool enter(Thread& self);
  void work_loop(Thread& self);            // thread workers
  void supervise(Thread& self, int slot);  // process workers (process_worker.cpp)
  void worker_exited(Thread& self, bool retire, int slot);
  void break_pool(Outcome cause);
  void stop(bool cancel_futures, bool cancel_running);
  bool wait_idle(const Deadline& d);
  bool is_own_worker();
  bool terminating() const noexcept { return (shared->flags() & (kTerminate | kBroken)) != 0; }
};

}  // namespace tide::pool
