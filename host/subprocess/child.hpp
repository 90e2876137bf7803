// A child process started by tide.subprocess (API.md §10), as the host
// tracks it: its pid, a pidfd through which it is signalled (never a
// recycled pid) and waited for (through wait_fd, the one wait path: a
// deadline, cancellation and Ctrl-C, and no SIGCHLD handler needed), and
// its return code once reaped. Knows nothing of Lua.
//
// Every started, unreaped child is also in a process-wide registry:
// starting a child reaps the ones that ended (no zombies pile up when
// nobody waits), and when the script ends interrupted (Ctrl-C) the
// host-exit hook terminates the rest (SIGTERM, to the whole process group
// for new_session children), then kills what is left after a grace period.
// Nothing else is done to children at a normal exit, as in Python.
#pragma once
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>

#include "core/deadline.hpp"
#include "core/unique_fd.hpp"

namespace tide::subprocess {

// Seconds a child gets between SIGTERM and SIGKILL when an interrupted
// script's children are stopped at exit (tide.process uses the same).
inline constexpr double kExitGrace = 2.0;

class Child {
 public:
  // `pidfd` may be empty only when the child was reaped by someone else
  // before it could be opened; `leader`: it leads its own session and
  // process group (new_session).
  Child(pid_t pid, UniqueFd pidfd, bool leader);

  pid_t pid() const noexcept { return pid_; }
  bool leader() const noexcept { return leader_; }
  // The pidfd (readable once the child has ended), -1 when there is none;
  // for an event loop that waits for it itself (tide.async).
  int pidfd() const noexcept { return pidfd_.get(); }

  // The return code once reaped (Python's returncode: the exit status, or
  // -N after signal N); nullopt before.
  std::optional<int> returncode() const;
  // Reaps it if it has ended, without blocking. InvalidState in a fork
  // child of the process that started it.
  std::optional<int> poll();
  // Waits until it ends (its return code) or the deadline (nullopt).
  // Throws Cancelled / Interrupted (or what a signal handler raised).
  std::optional<int> wait(const Deadline& d);
  // Sends `sig` to the child; nothing once it has been reaped.
  void send_signal(int sig);
  // The same to its whole process group when it leads one.
  void signal_group(int sig);
  // Cleanup after an error or a timeout: SIGKILL (to the group when it
  // leads one), then reaps it, waiting a bounded time that neither Ctrl-C
  // nor a signal handler interrupts. Never throws.
  void kill_and_reap() noexcept;

 private:
  bool reap_locked();  // true once reaped

  mutable std::mutex m_;  // guards reaped_ and code_ (and so reaping)
  const pid_t pid_;
  const pid_t owner_;  // the process that started it
  const UniqueFd pidfd_;
  const bool leader_;
  bool reaped_ = false;
  int code_ = 0;
};

// Adds a started child to the registry (reaping the ones that ended) and
// registers the host-exit hook once. The registry drops a child once it is
// reaped. A fork child starts with an empty registry (those children are
// not its own).
void track(const std::shared_ptr<Child>& child);

// Children the registry holds (started, not yet reaped), for tests.
std::size_t tracked_count();

}  // namespace tide::subprocess
