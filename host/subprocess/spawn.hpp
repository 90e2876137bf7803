// Starting a command for tide.subprocess: posix_spawn (glibc's runs the
// child on a vfork-like clone, so a big multi-threaded host is never
// copied) with file actions for the standard streams and the working
// directory. What the child gets:
//  - descriptors 0, 1, 2 as chosen, and nothing else: every descriptor tide
//    opens is close-on-exec, and the child also closes every descriptor
//    from 3 up before exec (Python's close_fds), so files a script opened
//    with io.open do not leak into it either;
//  - an empty signal mask (a worker thread's blocked signals stay here),
//    and SIGPIPE and SIGXFSZ at their defaults (the host ignores SIGPIPE);
//    other ignored signals stay ignored (nohup), as with Python's
//    restore_signals;
//  - its own session and process group with new_session.
// A command that cannot be run (not found, not executable, a cwd that does
// not exist) throws OSError in the parent naming it and carrying errno:
// glibc's posix_spawn reports the child's chdir and exec errors back
// through the shared memory of its vfork-like clone, the technique libuv
// implements with a close-on-exec pipe.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"
#include "subprocess/child.hpp"

namespace tide::subprocess {

struct StdioChoice {
  enum Kind {
    Inherit,  // the parent's own descriptor (the default)
    Pipe,     // a new pipe; the parent keeps the other end
    Null,     // /dev/null
    Stdout,   // stderr only: wherever stdout goes
    Fd,       // this descriptor of the parent (a file, another child's pipe end)
  };
  Kind kind = Inherit;
  int fd = -1;  // for Fd
  // For Fd: clear O_NONBLOCK first. A pipe end of another Popen (a
  // pipeline) is non-blocking for its parent; the parent gives it up to
  // this child, which expects a blocking descriptor.
  bool make_blocking = false;
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the program; not empty, no zero bytes
  // The child's whole environment as "NAME=value" strings; nullopt: this
  // process's environment.
  std::optional<std::vector<std::string>> env;
  std::string cwd;  // empty: the parent's
  bool new_session = false;
  StdioChoice stdio[3];
};

struct Spawned {
  std::shared_ptr<Child> child;  // already tracked (child.hpp)
  // The parent's ends of the Pipe choices (stdin's write end, stdout's and
  // stderr's read ends), close-on-exec and non-blocking; empty otherwise.
  UniqueFd pipes[3];
};

// Starts the command. Throws OSError (cannot run it: the message names the
// command, or the cwd when that is what is missing) and ArgumentError (a
// descriptor given as a choice is not open).
Spawned spawn(const SpawnSpec& spec);

// This process's environment, as "NAME=value" strings.
std::vector<std::string> current_environment();
// Sets each {name, value} of `changes` in `env`, replacing a variable of
// the same name or adding it at the end.
void apply_environment(std::vector<std::string>& env, const std::vector<std::pair<std::string, std::string>>& changes);

}  // namespace tide::subprocess
