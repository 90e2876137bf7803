// The worker side of tide.cluster (the `tide worker` command), Lua-free:
// a WorkerSet runs `concurrency` loops, each on its own tide Thread with its
// own Redis connection and its own Executor (a Lua state, made by the
// runtime), plus one heartbeat thread.
//
// A loop takes tasks from the queue's stream with XREADGROUP (consumer
// group "tide"; one task at a time), authenticates each (envelope.hpp),
// refuses replays (a nonce seen before under another stream id, recorded
// with SET NX in Redis for the replay window), runs it, XADDs the sealed
// result to the client's result stream (NOMKSTREAM: a client that is gone
// gets nothing) and XACKs + XDELs the task, all in one round trip with the
// next XREADGROUP. What fails authentication is never parsed, decoded or
// run: it is logged, copied to the dead-letter stream and removed.
//
// Reclaiming: the heartbeat thread records the process in the workers hash
// and re-claims (XCLAIM JUSTID, which resets the idle time without counting
// a delivery) the task each loop is running, every `heartbeat` seconds. A
// task idle for kMissedBeats heartbeats belongs to a worker that stopped
// beating: every loop checks (XAUTOCLAIM) once per heartbeat and runs what
// it claims, after max_deliveries deliveries failing it with WorkerDied
// and dead-lettering it instead. So delivery is at least once: tasks
// should be idempotent.
//
// Stopping: stop(false) lets running tasks finish (an idle XREADGROUP is
// interrupted), runs what was delivered to this consumer meanwhile, and
// removes the consumer; stop(true) also cancels running tasks (tide
// Thread cancellation), which then stay in the stream for another worker.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/envelope.hpp"
#include "cluster/redis_url.hpp"
#include "core/deadline.hpp"
#include "core/object.hpp"
#include "thread/thread.hpp"

namespace tide::cluster {

// Heartbeats a task may miss before it is reclaimed.
inline constexpr int kMissedBeats = 10;

// Runs tasks in one loop's own Lua state (made on that loop's thread).
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs an authenticated task whose runtime matches; returns its outcome
  // with portable values (no tide objects). `worker` names the loop.
  virtual Outcome run(const Entry& task, const std::string& worker) noexcept = 0;
};
using ExecutorFactory = std::function<std::unique_ptr<Executor>()>;

struct WorkerOptions {
  RedisUrl url;
  std::string queue = "default";
  std::string key;
  int concurrency = 1;
  double heartbeat = 1.0;  // seconds between beats
  double timeout = 5.0;    // connect, and how long Redis may stay silent
  std::string lua;         // the executors' Lua version ("Lua 5.4")
  ExecutorFactory executor;
  int done_fd = -1;        // an eventfd poked once every thread has ended
};

struct WorkerShared;

class WorkerSet {
 public:
  explicit WorkerSet(WorkerOptions options);
  ~WorkerSet();
  // Connects once (OSError when Redis cannot be reached or refuses), then
  // starts the heartbeat and the loops.
  void start();
  void stop(bool now) noexcept;
  // Waits until every loop and the heartbeat have ended; false at the deadline.
  bool wait(const Deadline& d);
  // Whether they have (without waiting).
  bool done() const noexcept;
  const std::string& label() const noexcept;

 private:
  std::shared_ptr<WorkerShared> shared_;
  std::vector<Ref<Thread>> threads_;  // the loops, then the heartbeat (set up by start(), before any stop())
};

}  // namespace tide::cluster
