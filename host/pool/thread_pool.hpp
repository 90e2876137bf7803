// tide.pool's native core (API.md §6): a pool of worker threads, each owning
// one warm Lua state, taking Tasks from one FIFO and completing each Task's
// Future. This layer knows nothing of Lua: what a worker runs is a
// TaskRunner made by the runtime (host/runtime/pool_runner.*). A process
// pool would keep this interface (submit -> Future, shutdown, terminate)
// with workers that are processes.
//
// Lifecycle: workers start with the pool; each runs the initializer first
// (a failure breaks the pool: pending and later work fails with BrokenPool
// carrying the cause). shutdown() stops accepting work, and workers exit
// once the queue is drained (cancel_futures empties it first). terminate()
// also cancels the tasks that are running. A worker that reaches
// max_tasks_per_worker is replaced by a fresh one (new Lua state).
//
// Cancel follows libuv: only tasks not yet started can be cancelled
// (Future::cancel on a pending task; the worker skips it).
//
// Lock order: Core::m only; no wait or user code runs with it held.
#pragma once
#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "core/deadline.hpp"
#include "core/object.hpp"
#include "future/future.hpp"
#include "thread/thread.hpp"

namespace tide::pool {

// What a task runs: an encoded function and its encoded arguments. `fn` is
// shared by every task that submits the same (cacheable) function, so a
// worker can recognise it and decode it only once.
struct FunctionBlob {
  Message message;  // one value: the function
  bool cacheable = false;
};

struct Task {
  Ref<future::Future> future;
  std::shared_ptr<const FunctionBlob> fn;
  Message args;
};

// One per worker, made on the worker's thread; owns that worker's state.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Runs the pool's initializer (if any); Failed breaks the pool.
  virtual Outcome init() noexcept = 0;
  virtual Outcome run(const Task& task) noexcept = 0;
};

using RunnerFactory = std::function<std::unique_ptr<TaskRunner>()>;

struct Options {
  int workers = 1;
  int max_tasks_per_worker = 0;  // 0: unlimited
  std::string name;              // empty: "ThreadPool-N"
  RunnerFactory runner;
};

struct Core;

class ThreadPool final : public Object {
 public:
  static constexpr const char* kTypeName = "tide.ThreadPool";
  const char* type_name() const noexcept override { return kTypeName; }

  // Starts the workers. Throws OSError if no thread can be started.
  static Ref<ThreadPool> create(Options options);
  ~ThreadPool() override;  // the last reference: shutdown without waiting

  // Queues a task; InvalidState after shutdown, BrokenPool once broken.
  Ref<future::Future> submit(std::shared_ptr<const FunctionBlob> fn, Message args);

  // Idempotent. `wait` blocks (interruptibly) until every worker exited.
  void shutdown(bool wait, bool cancel_futures);
  // Cancels queued tasks, cancels running ones (cooperatively; their
  // futures fail with Cancelled) and waits for the workers.
  void terminate();
  // Waits for the workers to exit; InvalidState unless shut down / closed.
  // False at the deadline.
  bool join(const Deadline& deadline);

  const std::string& name() const noexcept;
  int workers() const noexcept;
  bool is_shutdown() const;
  bool broken() const;
  // Once broken: BrokenPool, its text, and the cause (the initializer's error).
  Outcome broken_outcome() const;

  // Host exit: shuts down every pool of this process and waits for its
  // workers; `interrupted` (or a Ctrl-C during the wait) terminates them
  // instead, waiting at most `grace` seconds for running tasks to stop.
  static void shutdown_all(bool interrupted, double grace = 2.0) noexcept;

 private:
  explicit ThreadPool(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

}  // namespace tide::pool
