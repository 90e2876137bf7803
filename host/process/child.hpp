// What every child process runs, whatever its start method: the fixed-size
// ChildInfo that tells it where its work is (a payload Message and a Future
// stored in the shared arena), the setup that ties its life to its parent,
// and run_child, which runs the work and completes the Future with the
// Outcome. The parent learns the result from the Future and how the child
// ended from its exit status.
//
// Running the work needs a Lua state, which this layer knows nothing of:
// the runtime installs a ChildRunner (runtime/child_main.hpp) before any
// child starts, and every start method calls it through run_child.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace tide::process {

struct ChildInfo {
  std::uint64_t payload = 0;  // stored Message: function then arguments
  std::uint64_t future = 0;   // Future the child completes
  std::int32_t parent_pid = 0;
  std::uint32_t name_len = 0;  // bytes of `name` used (a name may hold zeros)
  char name[104] = {};  // the Process name, truncated to fit
};
static_assert(sizeof(ChildInfo) == 128);

// Exit codes of a child that could not run its work at all.
inline constexpr int kExitBadPayload = 3;   // payload or future unusable
inline constexpr int kExitParentGone = 4;   // the parent died before we started

// In a new child: clears the signal mask, resets SIGINT/SIGTERM/SIGPIPE to
// their defaults (Ctrl-C reaches the whole process group; the parent
// decides what to do), and asks for SIGKILL when the creating thread of
// `parent` dies, exiting at once if `parent` is already gone (the getppid
// race check). Async-signal-safe.
void prepare_child(pid_t parent) noexcept;

struct ChildRunner {
  // Makes ahead of forking what run() needs (the forkserver's warm state).
  void* (*prepare)() = nullptr;
  // Runs the work of `info` with what prepare() made (or nullptr: make it
  // now), completes the Future, joins what the work started, and returns
  // the exit status: 0 after a result, 1 after an error. Never throws.
  int (*run)(const ChildInfo& info, void* prepared) noexcept = nullptr;
  // Like prepare, for the fork start method, where the parent is a running
  // program: a template made once and kept untouched in the parent, which
  // every fork child receives as its own copy (nullptr if it cannot be
  // made: the child then makes its own). Never throws.
  void* (*warm)() noexcept = nullptr;
};

// Installed once per process by the runtime, before any child is started
// (a fork child inherits it).
void set_child_runner(ChildRunner runner) noexcept;

// The installed runner's prepare (nullptr without one) and run
// (kExitBadPayload without one).
void* prepare_child_work();
// The installed runner's warm (nullptr without one), for fork().
void* warm_child_work() noexcept;
int run_child(const ChildInfo& info, void* prepared) noexcept;

// This process's identity for process.current() / process.parent(). A
// child sets it (from its ChildInfo) before running its work.
std::string current_name();
pid_t parent_pid() noexcept;  // 0 in a process tide did not start
void set_identity(const ChildInfo& info);

}  // namespace tide::process
