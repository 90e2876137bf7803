// The Lua side of a pool worker (host/pool/task.hpp's TaskRunner): a warm
// state that runs the initializer once and then tasks. A thread worker's
// runner owns a fresh state on the worker's thread; a worker process's
// runner borrows the state its process runs (runtime/pool_child.*).
//
// A task's function is decoded once per worker and kept in the state:
// keyed by its FunctionBlob (thread workers; the cache pins the blob so
// its address cannot be reused), or by its StoredFunction id (process
// workers; ids are never reused). Functions that are not cacheable are
// decoded at every task.
#pragma once
#include <lua.hpp>

#include <memory>

#include "pool/thread_pool.hpp"

namespace tide::runtime {

// The registry field a worker state may set to a function its runner's
// finish() calls when the pool shuts down (an actor's __pre_destroy).
inline constexpr const char* kFinalizer = "tide.pool.finalizer";

// `initializer`: the function followed by its arguments, or null.
pool::RunnerFactory runner_factory(std::shared_ptr<const Message> initializer);

// A runner in the existing state `L` (not closed by the runner), with no
// initializer of its own.
std::unique_ptr<pool::TaskRunner> borrowed_runner(lua_State* L);

}  // namespace tide::runtime
