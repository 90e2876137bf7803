// What every child process runs, whatever its start method: the fixed-size
// ChildInfo that tells it where its work is (a payload Message and a Future
// stored in the shared arena), the setup that ties its life to its parent,
// and run_child, which runs the work in a fresh Lua state and completes the
// Future with the Outcome. The parent learns the result from the Future and
// how the child ended from its exit status.
#pragma once
#include <lua.hpp>
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

// Runs the child's work in `L` (a fresh state; created when nullptr),
// completes the Future, joins what the work started (runtime shutdown), and
// returns the exit status: 0 after a result, 1 after an error. Never throws.
int run_child(const ChildInfo& info, lua_State* L) noexcept;

// This process's identity for process.current() / process.parent().
std::string current_name();
pid_t parent_pid() noexcept;  // 0 in a process tide did not start

}  // namespace tide::process
