// The part of a pool its workers share, kept in the shared arena so that a
// worker that is a process uses it exactly as a worker thread does: the
// FIFO of task records, the stop flags, the idle workers' spin and wake
// word, and one slot per process worker saying which task it holds (how the
// task of a worker that died is found). Lua-free; both the pool's process
// (submitting, supervising) and its worker processes (taking, finishing)
// run this code.
//
// A record is queued (ring positions [head, tail)), then held by the worker
// that took it, then released. Taking commits with one store (head), after
// the taker's slot already names the record and its position, so a worker
// killed anywhere leaves each record in exactly one place: still queued
// (slot.pos >= head: the lock's next holder repairs the slot) or held by
// its dead worker (recover()).
//
// Lock: PoolData::m (robust, process-shared) guards the ring, head, tail,
// flags and the slots' `current`/`pos`/`holding`; it is held for a few
// stores, never across a wait or user code. The pool core's own mutex
// (Core::m) may be held when taking it, never the reverse.
#pragma once
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/wait_point.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/shared.hpp"

namespace tide::pool {

// A task in its shared form. A Stored record owns one shared reference to
// its future, one reference to its function (function_store.hpp) and its
// stored arguments; a Local one (thread workers only: the submitting
// process is the only reader) points at a Task of that process.
struct TaskRecord {
  shm::Offset future = 0;      // Stored: FutureData
  std::uint64_t fn = 0;        // Stored: StoredFunction offset
  std::uint64_t args = 0;      // Stored: stored Message; Local: Task*
  std::uint32_t attempts = 0;  // how many workers died running it
  std::uint32_t local = 0;     // 1: Local
};
static_assert(sizeof(TaskRecord) == 32);

// What a process worker is doing, as its supervisor reads it.
enum class SlotState : std::uint32_t {
  Empty,       // no worker process
  Starting,    // started, not yet past its initializer
  Idle,        // waiting for a task
  Busy,        // holding a task
  InitFailed,  // its initializer raised (the pool breaks)
  Retired,     // left after max_tasks_per_worker tasks
  Stopped,     // left because the pool stopped
};

struct WorkerSlot {
  std::atomic<std::uint32_t> state{0};      // SlotState
  std::atomic<std::uint64_t> task_seq{0};   // bumped at each take
  std::atomic<std::int64_t> started_ns{0};  // CLOCK_MONOTONIC when the held task was taken
  std::uint64_t pos = 0;                    // under m: the ring position `current` came from
  TaskRecord current;                       // under m: the held task
  std::uint32_t holding = 0;                // under m: `current` is valid
  // The worker holds a reference of its own to the held task's future (its
  // proxy), which its supervisor drops if it dies: set after the reference
  // is taken, cleared before it is dropped, so a death in between leaks
  // one reference rather than dropping one twice.
  std::atomic<std::uint32_t> future_ref{0};
  // The same for the worker's references to the pool's shared part and its
  // init_failure future (its payload's handles, held for its whole life).
  std::atomic<std::uint32_t> payload_refs{0};
  std::int32_t channel_fd = -1;  // set at creation: the worker's end of fd_channel
};

inline constexpr std::uint32_t kShutdown = 1;   // take no new work; stop once the queue is empty
inline constexpr std::uint32_t kTerminate = 2;  // stop now
inline constexpr std::uint32_t kBroken = 4;     // stop now; submits fail

struct PoolData {
  shm::SharedHeader header;
  std::int32_t max_tasks = 0;  // per worker; 0: unlimited
  std::uint32_t nslots = 0;
  shm::Offset slots = 0;  // WorkerSlot[nslots]

  // Groups by who writes them, 64 bytes apart (the arena aligns blocks to
  // 16 only, so padding rather than alignas keeps them off shared lines).
  char pad0_[64] = {};
  shm::RobustMutex m;
  std::atomic<std::uint64_t> head{0};  // under m; taking commits with its store
  std::uint64_t tail = 0;              // under m
  shm::Offset ring = 0;         // under m: TaskRecord[1 << cap_log2]
  std::uint32_t cap_log2 = 0;   // under m
  std::atomic<std::uint32_t> flags{0};  // written under m; read anywhere

  // Read without the lock by idle workers spinning before they sleep; a
  // submitter wakes nobody (no system call) while none sleeps.
  char pad1_[64] = {};
  std::atomic<std::uint64_t> queued{0};
  WaitPoint work;  // a task was queued, or flags changed (core/wait_point.hpp)

  PoolData() noexcept { header.type = shm::SharedType::Pool; }
};

class PoolShared final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.PoolShared";
  const char* type_name() const noexcept override { return kTypeName; }

  // One slot per process worker (0 for a thread pool). Throws OSError.
  static Ref<PoolShared> create(int nslots, int max_tasks);
  explicit PoolShared(shm::SharedHeader* h) : SharedObject(h) {}
  PoolData& data() const noexcept { return *reinterpret_cast<PoolData*>(shared_header()); }

  enum class Pushed { Ok, Shutdown, Broken };
  // Queues `r` unless the pool is shut down (terminated) or broken: then
  // nothing changes. `requeue` (a task whose worker died, run again) is
  // still accepted after a plain shutdown, which finishes submitted work.
  // Throws OSError when the ring cannot grow (arena full).
  Pushed push(const TaskRecord& r, bool requeue = false);

  // Blocks until a record is there (returned, and held in `slot` when
  // slot >= 0) or the pool stops for this worker: terminated, broken, or
  // shut down with the queue empty (nullopt). A thread worker's wait ends
  // (nullopt) when its Thread is cancelled.
  std::optional<TaskRecord> take(int slot);
  // The worker in `slot` is done with the record it held.
  void release_held(int slot) noexcept;
  // After the worker in `slot` died: the record it held, if it held one
  // (no longer held by anyone).
  std::optional<TaskRecord> recover(int slot) noexcept;

  // Sets flag bits (under the lock) and wakes every idle worker.
  // `drain`: also takes every queued record out (returned).
  std::vector<TaskRecord> stop(std::uint32_t flags, bool drain);
  std::uint32_t flags() const noexcept { return data().flags.load(std::memory_order_acquire); }
  bool queue_empty() const noexcept { return data().queued.load(std::memory_order_acquire) == 0; }

  WorkerSlot& slot(int i) const noexcept;
  int nslots() const noexcept { return static_cast<int>(data().nslots); }
  int max_tasks() const noexcept { return data().max_tasks; }

 private:
  class Lock;
};

}  // namespace tide::pool
