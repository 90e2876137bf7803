// Private to host/cluster: what a WorkerSet's loops and heartbeat share
// (worker.hpp describes the design). Fields say which lock guards them.
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/keys.hpp"
#include "cluster/worker.hpp"
#include "core/object.hpp"
#include "core/unique_fd.hpp"
#include "core/wait.hpp"
#include "thread/thread.hpp"

namespace tide::cluster {

struct WorkerShared {
  explicit WorkerShared(WorkerOptions o);

  const WorkerOptions opt;
  const Keys keys;
  const std::string label;  // "host:pid": this process in the workers hash
  const std::string min_idle_ms;  // XAUTOCLAIM's idle threshold
  UniqueFd idle_stop;  // eventfd: readable once stopping (ends idle reads)
  UniqueFd hard_stop;  // eventfd: readable once stopping now (ends every wait)
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopping_now{false};
  std::atomic<bool> finished{false};  // the heartbeat, the last to end, has ended

  std::mutex m;                       // guards running and loops_left; never held across I/O
  std::vector<std::string> running;   // under m: per loop, the stream id of the task it runs ("" idle)
  int loops_left = 0;                 // under m: loops not yet ended
  WaitWord word;                      // bumped when a loop ends or stopping starts

  // The threads themselves belong to the WorkerSet: their bodies hold this
  // object, so holding them here would be a reference cycle (leaked).

  void set_running(int loop, const std::string& id);
  void loop_ended();
};

// The bodies of the threads (worker_loop.cpp, worker.cpp).
std::unique_ptr<ThreadBody> make_loop(std::shared_ptr<WorkerShared> shared, int index);
std::unique_ptr<ThreadBody> make_heartbeat(std::shared_ptr<WorkerShared> shared);

}  // namespace tide::cluster
