// The Lua side of a child process (process/child.hpp): every start method
// ends in run_child, which this runner serves by running the payload in a
// Lua state, completing the Future and joining what the work started.
#pragma once

namespace tide::runtime {

// Installs the runner with process::set_child_runner. Idempotent; called by
// install() and by the command before its hidden modes.
void install_child_runner() noexcept;

}  // namespace tide::runtime
