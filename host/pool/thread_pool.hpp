// tide.pool's native core (API.md §6): one pool core for both kinds of
// worker. Tasks go into one FIFO in the shared arena (pool_data.hpp); each
// worker runs the same loop over it (serve.hpp), taking a task, running it
// with a TaskRunner (made by the runtime: host/runtime/pool_runner.*, a warm
// Lua state) and completing the task's Future. This layer knows nothing of
// Lua. The kinds differ only in what a worker is:
//  - ThreadPool: a tide Thread of this process running the loop;
//  - ProcessPool: a process (started with fork, spawn or the forkserver, as
//    a tide Process) running the loop in its own Lua state, watched by a
//    supervisor Thread of this process that waits for it to end (its pidfd,
//    through the one wait path) and then acts: a task it died holding fails
//    with WorkerDied (or is queued again, `retries`), a task that overran
//    `task_timeout` gets its worker killed and fails with Timeout, and the
//    worker is replaced; a worker that keeps dying before it is ready, or
//    whose initializer raised, breaks the pool.
//
// Lifecycle: workers start with the pool; each runs the initializer first
// (a failure breaks the pool: pending and later work fails with BrokenPool
// carrying the cause). shutdown() stops accepting work, and workers exit
// once the queue is drained (cancel_futures empties it first). terminate()
// also stops the tasks that are running: cooperatively for threads (their
// futures fail with Cancelled), by SIGTERM (SIGKILL after a grace) for
// processes. A worker that reaches max_tasks_per_worker is replaced by a
// fresh one (new Lua state, or new process). A wait for the workers returns
// once every worker Thread has finished and every worker process is reaped.
//
// Cancel follows libuv: only tasks not yet started can be cancelled
// (Future::cancel on a pending task; the worker skips it).
//
// Lock order: Core::m, then PoolData::m (pool_data.hpp); no wait or user
// code runs with either held.
#pragma once
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "core/message.hpp"
#include "core/object.hpp"
#include "future/future.hpp"
#include "pool/pool_data.hpp"
#include "pool/task.hpp"
#include "process/process.hpp"

namespace tide::pool {

enum class WorkerKind { Thread, Process };

struct ProcessOptions {
  process::StartMethod method = process::StartMethod::ForkServer;
  int retries = 0;          // runs of a task whose worker died, before WorkerDied
  double task_timeout = 0;  // seconds; 0: none
  // Made by the runtime (it knows Lua) before the pool: the shared part
  // (PoolShared::create(workers, max_tasks_per_worker)), the future an
  // initializer's error completes, and per slot the call its worker
  // process runs (runtime/pool_child.hpp's serve with the shared part, the
  // slot, that future, the pool's name, the initializer and its arguments).
  Ref<PoolShared> shared;
  Ref<future::Future> init_failure;
  std::vector<Message> payloads;
};

struct Options {
  int workers = 1;
  int max_tasks_per_worker = 0;  // 0: unlimited
  std::string name;              // empty: "ThreadPool-N" / "ProcessPool-N"
  WorkerKind kind = WorkerKind::Thread;
  RunnerFactory runner;    // thread workers
  ProcessOptions process;  // process workers
  // An actor's pool (pool/actor.hpp): one worker, named "actor 'X'" in
  // errors, and its end is the actor's: it breaks with WorkerDied (not
  // BrokenPool), and a worker process that dies is replaced only with
  // `restart` (otherwise its death breaks the pool, failing what is queued).
  bool actor = false;
  bool restart = false;
};

struct Core;

class Pool final : public Object {
 public:
  static constexpr char kThreadTypeName[] = "tide.ThreadPool";
  static constexpr char kProcessTypeName[] = "tide.ProcessPool";
  const char* type_name() const noexcept override;

  // Starts the workers. Throws OSError if no thread can be started,
  // InvalidState if a process pool's options are incomplete.
  static Ref<Pool> create(Options options);
  ~Pool() override;  // the last reference: shutdown without waiting

  // Queues a task; InvalidState after shutdown, BrokenPool once broken;
  // for process workers TransferError when `fn` or `args` refer to objects
  // other processes cannot use.
  Ref<future::Future> submit(std::shared_ptr<const FunctionBlob> fn, Message args);

  // Idempotent. `wait` blocks (interruptibly) until every worker is done.
  void shutdown(bool wait, bool cancel_futures);
  // Cancels queued tasks, stops running ones (their futures fail with
  // Cancelled) and, with `wait`, waits for the workers.
  void terminate(bool wait = true);
  // Waits for the workers to exit; InvalidState unless shut down / closed.
  // False at the deadline.
  bool join(const Deadline& deadline);

  const std::string& name() const noexcept;
  // The part the workers share (what an ActorRef holds to reach them).
  Ref<PoolShared> shared_part() const noexcept;
  int workers() const noexcept;
  WorkerKind kind() const noexcept;
  process::StartMethod start_method() const noexcept;  // process workers
  bool is_shutdown() const;
  bool broken() const;
  // Once broken: BrokenPool, its text, and the cause (the initializer's error).
  Outcome broken_outcome() const;

  // Host exit: shuts down every pool of this process and waits for its
  // workers; `interrupted` (or a Ctrl-C during the wait) terminates them
  // instead, waiting at most `grace` seconds for running tasks to stop.
  static void shutdown_all(bool interrupted, double grace = 2.0) noexcept;

 private:
  explicit Pool(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

// Queues a task on `shared` (Pool::submit's push, also for a process that
// holds only the shared part: an ActorRef passed to another process). A
// Stored record when `stored` (process workers, or a submitter in another
// process than the workers' threads), else a Local one. Returns the task's
// future, or null with `pushed` saying why nothing was queued. Throws
// TransferError / OSError as stored_record does.
Ref<future::Future> push_task(PoolShared& shared, bool stored, std::shared_ptr<const FunctionBlob> fn, Message args,
                              PoolShared::Pushed& pushed);

// "ThreadPool-N" / "ProcessPool-N", the next free one of this process.
std::string default_name(WorkerKind kind);

// The thread pool is the pool with thread workers (the name the tests and
// the C++ embedding API know).
using ThreadPool = Pool;

}  // namespace tide::pool
