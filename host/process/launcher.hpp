// The launcher: one long-lived OS thread (not a tide Thread) that forks and
// spawns for callers that are not the main thread. Two reasons:
//  - a fork made on a worker's stack gives a child in which that worker's
//    tide Thread still looks alive (the child would wait for itself at
//    exit); forked from the launcher, the child starts at a clean point
//    where every tide Thread of the parent is known not to exist;
//  - PR_SET_PDEATHSIG fires when the *thread* that created the child ends,
//    and idle worker threads do end; the launcher lives as long as the
//    process (as the main thread does).
#pragma once
#include <sys/types.h>

#include <functional>

namespace tide::process {

// Runs `launch` on the launcher thread and returns its result, or rethrows
// what it threw. Bounded (a fork or posix_spawn), so it is not a
// cancellable wait.
pid_t on_launcher(const std::function<pid_t()>& launch);

}  // namespace tide::process
