// The hidden modes of the `tide` command that start methods use (internal,
// not in --help):
//   tide --worker ARENA_FD PIPE_FD     a spawned child (launch.hpp)
//   tide --forkserver CTL_FD ARENA_FD  the forkserver (forkserver.hpp)
#pragma once

namespace tide::process {

// True if argv asks for a hidden mode; `status` then holds its exit status.
bool run_hidden_mode(int argc, char** argv, int& status);

}  // namespace tide::process
