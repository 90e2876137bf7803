// The Lua side of a pool worker (host/pool/thread_pool.hpp): a warm state
// on the worker's thread that runs the initializer once and then tasks.
// A task's function arrives as a shared FunctionBlob; cacheable ones are
// decoded once per worker and kept in the state, keyed by the blob (which
// the cache pins so its address cannot be reused).
#pragma once
#include <memory>

#include "pool/thread_pool.hpp"

namespace tide::runtime {

// `initializer`: the function followed by its arguments, or null.
pool::RunnerFactory runner_factory(std::shared_ptr<const Message> initializer);

}  // namespace tide::runtime
