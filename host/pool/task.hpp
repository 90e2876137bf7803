// A pool task as a worker runs it (Task, TaskRunner), and the two shared
// forms a queued task takes (pool_data.hpp's TaskRecord): Local, a pointer
// to a Task of the submitting process, for thread workers (its arguments
// may hold objects only that process can use: Threads, pools); Stored, for
// process workers, everything in the arena: the future, the function (once
// per function, with an id workers cache it by) and the arguments.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/message.hpp"
#include "future/future.hpp"
#include "pool/pool_data.hpp"
#include "shm/arena.hpp"

namespace tide::pool {

// What a task runs: an encoded function. Shared by every task that submits
// the same (cacheable) function, so a worker can recognise it and decode it
// only once; for process workers it is stored in the arena once, on first
// use (shared()).
struct FunctionBlob {
  Message message;  // one value: the function
  bool cacheable = false;

  FunctionBlob() = default;
  FunctionBlob(const FunctionBlob&) = delete;
  FunctionBlob& operator=(const FunctionBlob&) = delete;
  ~FunctionBlob();

  // The arena copy (a StoredFunction), with one new reference for the
  // caller. Throws TransferError (an upvalue no other process can use) or
  // OSError (arena full).
  shm::Offset shared() const;

 private:
  mutable std::atomic<shm::Offset> stored_{0};  // holds one reference
};

// A function in the arena. `id` is unique among the functions of one pool's
// process (0: not cacheable, decode at every use).
struct StoredFunction {
  std::atomic<std::int64_t> refs{1};
  std::uint64_t id = 0;
  shm::Offset message = 0;  // stored Message
};
void retain_function(shm::Offset f) noexcept;
void release_function(shm::Offset f) noexcept;
inline const StoredFunction& function_at(shm::Offset f) noexcept {
  return *shm::Arena::get().at<StoredFunction>(f);
}

struct Task {
  Ref<future::Future> future;
  std::shared_ptr<const FunctionBlob> fn;  // thread workers
  shm::Offset stored_fn = 0;               // process workers (held by the record)
  Message args;
};

// One per worker, made where the worker runs; owns (or borrows) that
// worker's Lua state.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Runs the pool's initializer (if any); Failed breaks the pool.
  virtual Outcome init() noexcept = 0;
  virtual Outcome run(const Task& task) noexcept = 0;
  // The worker leaves because the pool was shut down (not terminated,
  // broken or retired): runs what its state registered to run then (an
  // actor's __pre_destroy, pool/actor.hpp). Errors are logged.
  virtual void finish() noexcept {}
};

using RunnerFactory = std::function<std::unique_ptr<TaskRunner>()>;

// The Local record of `task` (the record owns it until close_record).
TaskRecord local_record(Task task);
// The Stored record of a task: stores `args` and takes references to
// `future` and the function. Throws TransferError / OSError, leaving
// nothing behind.
TaskRecord stored_record(const Ref<future::Future>& future, const FunctionBlob& fn, const Message& args);

// The Task a worker runs for `r` (new references; a Local record's Task is
// moved out). The record still owns what it owned until close_record.
// `ledger` (a process worker's slot's future_ref) is set once the Task's
// reference to the future is taken.
Task open_record(const TaskRecord& r, std::atomic<std::uint32_t>* ledger = nullptr);
// A new reference to the record's future (to cancel or fail it).
Ref<future::Future> future_of(const TaskRecord& r);
// Frees what the record owns. Local records: only in their own process.
void close_record(const TaskRecord& r) noexcept;

}  // namespace tide::pool
