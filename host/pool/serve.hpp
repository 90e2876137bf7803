// The loop every pool worker runs, a thread in the pool's process or a
// worker process alike: take a record from the shared queue, run its task,
// complete its future, let go of the record; until the pool stops for this
// worker or it has run max_tasks_per_worker tasks.
#pragma once
#include <string>

#include "pool/pool_data.hpp"
#include "pool/task.hpp"

namespace tide::pool {

enum class ServeEnd { Stopped, Retired };

// `slot`: the worker's slot (process workers), or -1 (thread workers).
// `worker` names it in RemoteError texts. Never throws.
ServeEnd serve(PoolShared& pool, int slot, TaskRunner& runner, const std::string& worker,
               const std::string& pool_name) noexcept;

// A failed Outcome of `kind` with `text`.
Outcome failure(ErrorKind kind, std::string text);

}  // namespace tide::pool
