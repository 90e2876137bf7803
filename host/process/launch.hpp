// Starting a child with the fork and spawn start methods (the forkserver
// has its own file). Both return the child's pid; the child runs
// run_child(info) and exits with its status.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "process/child.hpp"

namespace tide::process {

// fork(): the child is a copy of this process in which only the calling
// thread exists; it runs the work in a fresh state and _exits without
// returning into the caller's frames.
pid_t fork_child(const ChildInfo& info);

// posix_spawn of `tide --worker ARENA_FD PIPE_FD`: the child maps this
// process tree's arena through the inherited descriptor and reads `info`
// from the pipe. `extra` descriptors (pipe connections in the payload) keep
// their numbers in the child. posix_spawn reports exec failure directly.
pid_t spawn_worker(const ChildInfo& info, const std::vector<int>& extra);

// posix_spawn of the tide command with `args` after argv[0], the listed
// descriptors inherited (all others stay close-on-exec), signal mask clear
// and SIGINT/SIGTERM/SIGPIPE/SIGCHLD at their defaults. Throws OSError.
pid_t spawn_command(const std::vector<std::string>& args, const std::vector<int>& inherit);

// The tide command spawned children run: set by the command itself
// (/proc/self/exe) or an embedding host; else $TIDE_EXECUTABLE, else the
// command installed with the library, else `tide` found in $PATH. Throws
// OSError when there is none.
std::string tide_command();
void set_tide_command(std::string path);

}  // namespace tide::process
