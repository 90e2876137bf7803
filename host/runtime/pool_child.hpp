// The Lua side of a process pool's worker process (host/pool/thread_pool.hpp,
// process_worker.cpp): what its payload calls,
//   tide._pool._serve(shared, slot, init_failure, pool_name, [initializer, initargs...])
// in the process's own (warm) state. It runs the initializer, then the
// pool's worker loop (pool/serve.hpp) with a runner borrowing that state,
// and returns once the pool stops or the worker retires; the slot's state
// tells the supervisor which (or that the initializer raised: its error
// then completes `init_failure`).
#pragma once
#include <lua.hpp>

namespace tide::runtime {

int serve_pool_worker(lua_State* L);

}  // namespace tide::runtime
