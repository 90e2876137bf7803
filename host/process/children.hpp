// Waiting for child processes through the one wait path: a SIGCHLD handler
// bumps a WaitWord, and a blocking waitpid is a wait_until on it, so it has
// a deadline and is cancellable and SIGINT-interruptible like every wait.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include "core/deadline.hpp"

namespace tide::process {

// waitpid(pid, status, flags) that blocks through the wait path unless
// flags has WNOHANG. Returns the pid (0: WNOHANG and nothing to report, or
// the deadline passed). Throws OSError (e.g. ECHILD), Cancelled, Interrupted.
pid_t wait_child(pid_t pid, int* status, int flags, const Deadline& deadline);

// Installs the SIGCHLD handler (once; chains to a previous handler).
void watch_children();

// For tide.signal, which takes SIGCHLD over while a script has a handler
// for it: notify_children does what tide's handler does (async-signal-safe),
// reinstall_children_handler puts tide's handler back ("default"), and
// is_children_handler tells it apart from a foreign one.
void notify_children() noexcept;
void reinstall_children_handler();
bool is_children_handler(const struct sigaction& sa) noexcept;

}  // namespace tide::process
