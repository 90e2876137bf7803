// The Lua side of a tide.cluster worker loop (host/cluster/worker.hpp): a
// warm state on the loop's thread that decodes each task's function
// (cacheable ones once, keyed by their bytes) and arguments, calls it, and
// encodes the results portably (a tide object among them is a
// TransferError, since it cannot leave this machine). Cancelling the
// loop's Thread stops a running task as it stops any tide thread.
#pragma once
#include "cluster/worker.hpp"

namespace tide::runtime {

cluster::ExecutorFactory cluster_executor_factory();

// "Lua 5.4": what tide.cluster stamps on tasks and results.
const char* cluster_lua_version() noexcept;

}  // namespace tide::runtime
