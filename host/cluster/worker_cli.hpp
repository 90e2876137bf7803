// `tide worker` (API.md §17): options, the shared key, signals, and either
// one WorkerSet of N thread loops or N supervised worker processes
// (--processes). Lua-free: the command passes in the runtime's executor
// factory and Lua version.
#pragma once
#include <string>

#include "cluster/worker.hpp"

namespace tide::cluster {

// argv[0] is "worker". Returns the exit status: 0 after a stop by SIGINT /
// SIGTERM (the first lets running tasks finish, a second cancels them),
// 1 when it cannot start (bad options, no key, Redis unreachable), 2 for
// usage errors.
int run_worker_command(int argc, char** argv, ExecutorFactory executor, const std::string& lua,
                       const std::string& tide_exe);

}  // namespace tide::cluster
