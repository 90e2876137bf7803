// Waiting for child processes through the one wait path: a SIGCHLD handler
// bumps a WaitWord, and a blocking waitpid is a wait_until on it, so it has
// a deadline and is cancellable and SIGINT-interruptible like every wait.
#pragma once
#include <sys/types.h>

#include "core/deadline.hpp"

namespace tide::process {

// waitpid(pid, status, flags) that blocks through the wait path unless
// flags has WNOHANG. Returns the pid (0: WNOHANG and nothing to report, or
// the deadline passed). Throws OSError (e.g. ECHILD), Cancelled, Interrupted.
pid_t wait_child(pid_t pid, int* status, int flags, const Deadline& deadline);

// Installs the SIGCHLD handler (once; chains to a previous handler).
void watch_children();

}  // namespace tide::process
