#include "subprocess/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"

extern char** environ;

namespace tide::subprocess {

namespace {

const char* const kStreamNames[3] = {"stdin", "stdout", "stderr"};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

[[noreturn]] void cannot_run(const std::string& program, const std::string& detail, int err) {
  throw Error(ErrorKind::OSError, "cannot run " + quoted(program) + ": " + detail + std::strerror(err), err);
}

bool is_executable_file(const std::string& path, int& err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0) {
    err = EACCES;
    return false;
  }
  return true;
}

// The PATH the child's program is looked up in: the child's own when the
// environment is replaced (as Python does), else ours, else the default.
std::string search_path(const SpawnSpec& spec) {
  if (spec.env) {
    for (const std::string& var : *spec.env)
      if (var.compare(0, 5, "PATH=") == 0) return var.substr(5);
  } else if (const char* p = std::getenv("PATH")) {
    return p;
  }
  return "/bin:/usr/bin";
}

// execvp's search, done in the parent so that "not found" names the
// command: a name with a slash is used as it is; otherwise the first
// executable regular file in the PATH directories (an empty entry is the
// current directory). EACCES if only non-executable candidates exist.
std::string find_program(const SpawnSpec& spec) {
  const std::string& name = spec.argv[0];
  if (name.find('/') != std::string::npos) return name;
  if (name.empty()) cannot_run(name, "", ENOENT);
  std::string path = search_path(spec);
  int denied = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    int err = 0;
    if (is_executable_file(candidate, err)) return candidate;
    if (err == EACCES) denied = EACCES;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  cannot_run(name, denied ? "" : "not found in PATH: ", denied ? denied : ENOENT);
}

// Why posix_spawn failed with `err`: the cwd, if that is what is missing
// or unusable (posix_spawn reports its chdir's errno like exec's), else the
// command.
[[noreturn]] void report_spawn_error(const SpawnSpec& spec, int err) {
  if (!spec.cwd.empty()) {
    struct stat st;
    int cwd_err = 0;
    if (stat(spec.cwd.c_str(), &st) != 0)
      cwd_err = errno;
    else if (!S_ISDIR(st.st_mode))
      cwd_err = ENOTDIR;
    else if (faccessat(AT_FDCWD, spec.cwd.c_str(), X_OK, AT_EACCESS) != 0)
      cwd_err = EACCES;
    if (cwd_err) cannot_run(spec.argv[0], "cwd " + quoted(spec.cwd) + ": ", cwd_err);
  }
  cannot_run(spec.argv[0], "", err);
}

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_os_error("fcntl", errno);
}

// Owns what posix_spawn's two C structures own.
struct SpawnState {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  SpawnState() {
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
  }
  ~SpawnState() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  SpawnState(const SpawnState&) = delete;
  SpawnState& operator=(const SpawnState&) = delete;
};

// The descriptors the child's 0, 1, 2 come from, and the parent's pipe
// ends. `keep` holds what the parent closes once the child has started.
struct Plumbing {
  int source[3] = {-1, -1, -1};
  UniqueFd keep[6];
  int kept = 0;
  UniqueFd* parent[3] = {nullptr, nullptr, nullptr};

  int hold(int fd) {
    keep[kept].reset(fd);
    return keep[kept++].get();
  }

  // Descriptors made blocking for the child (StdioChoice::make_blocking).
  // If no child starts, they are given back non-blocking: their stream
  // still waits through wait_fd, which a blocking read would bypass.
  int unblocked[3] = {-1, -1, -1};
  int n_unblocked = 0;
  bool started = false;
  ~Plumbing() {
    if (started) return;
    for (int i = 0; i < n_unblocked; ++i) {
      int flags = fcntl(unblocked[i], F_GETFL);
      if (flags >= 0) fcntl(unblocked[i], F_SETFL, flags | O_NONBLOCK);
    }
  }
};

void plumb(const SpawnSpec& spec, Plumbing& p, Spawned& out) {
  for (int i = 0; i < 3; ++i) {
    const StdioChoice& c = spec.stdio[i];
    switch (c.kind) {
      case StdioChoice::Pipe: {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw_os_error("pipe", errno);
        int child_end = i == 0 ? fds[0] : fds[1];
        out.pipes[i].reset(i == 0 ? fds[1] : fds[0]);
        set_nonblocking(out.pipes[i].get());
        p.source[i] = p.hold(child_end);
        break;
      }
      case StdioChoice::Fd:
        if (c.fd < 0 || fcntl(c.fd, F_GETFD) < 0)
          throw Error(ErrorKind::ArgumentError,
                      std::string(kStreamNames[i]) + ": descriptor " + std::to_string(c.fd) + " is not open");
        if (c.make_blocking) {
          int flags = fcntl(c.fd, F_GETFL);
          if (flags < 0 || fcntl(c.fd, F_SETFL, flags & ~O_NONBLOCK) != 0) throw_os_error("fcntl", errno);
          p.unblocked[p.n_unblocked++] = c.fd;
        }
        p.source[i] = c.fd;
        break;
      default: break;
    }
    // A source that is itself one of 0..2 (other than its target) could be
    // overwritten by an earlier dup2 in the child: give it a high number.
    if (p.source[i] >= 0 && p.source[i] < 3 && p.source[i] != i) {
      int high = fcntl(p.source[i], F_DUPFD_CLOEXEC, 3);
      if (high < 0) throw_os_error("fcntl", errno);
      p.source[i] = p.hold(high);
    }
  }
}

void add_file_actions(const SpawnSpec& spec, const Plumbing& p, posix_spawn_file_actions_t* fa) {
  auto check = [](int rc) {
    if (rc != 0) throw_os_error("posix_spawn_file_actions", rc);
  };
  if (!spec.cwd.empty()) check(posix_spawn_file_actions_addchdir_np(fa, spec.cwd.c_str()));
  for (int i = 0; i < 3; ++i) {
    switch (spec.stdio[i].kind) {
      case StdioChoice::Inherit: break;
      case StdioChoice::Pipe:
      case StdioChoice::Fd:
        // dup2 onto itself clears FD_CLOEXEC in the child only (glibc >= 2.29).
        check(posix_spawn_file_actions_adddup2(fa, p.source[i], i));
        break;
      case StdioChoice::Null:
        check(posix_spawn_file_actions_addopen(fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0));
        break;
      case StdioChoice::Stdout: check(posix_spawn_file_actions_adddup2(fa, 1, i)); break;
    }
  }
  check(posix_spawn_file_actions_addclosefrom_np(fa, 3));
}

void set_attributes(const SpawnSpec& spec, posix_spawnattr_t* attr) {
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(attr, flags);
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> v;
  v.reserve(strings.size() + 1);
  for (const std::string& s : strings) v.push_back(const_cast<char*>(s.c_str()));
  v.push_back(nullptr);
  return v;
}

}  // namespace

Spawned spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw Error(ErrorKind::ArgumentError, "no command to run");
  std::string program = find_program(spec);
  Spawned out;
  Plumbing plumbing;
  plumb(spec, plumbing, out);
  SpawnState st;
  add_file_actions(spec, plumbing, &st.fa);
  set_attributes(spec, &st.attr);
  std::vector<char*> argv = pointers(spec.argv);
  std::vector<char*> envp;
  if (spec.env) envp = pointers(*spec.env);
  pid_t pid = 0;
  int err = posix_spawn(&pid, program.c_str(), &st.fa, &st.attr, argv.data(), spec.env ? envp.data() : environ);
  if (err != 0) report_spawn_error(spec, err);
  plumbing.started = true;
  // pidfd_open's descriptor is close-on-exec. ESRCH: someone reaped it
  // already (os.waitpid(-1) in another thread).
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd && errno != ESRCH) {
    int e = errno;
    kill(pid, SIGKILL);
    throw_os_error("pidfd_open", e);
  }
  out.child = std::make_shared<Child>(pid, std::move(pidfd), spec.new_session);
  track(out.child);
  log::debug("subprocess {} started: pid {}", spec.argv[0], pid);
  return out;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

void apply_environment(std::vector<std::string>& env, const std::vector<std::pair<std::string, std::string>>& changes) {
  for (const auto& change : changes) {
    const std::string& name = change.first;  // not a structured binding: clang 14 cannot capture those
    std::string var = name + "=" + change.second;
    auto same = [&](const std::string& e) { return e.size() > name.size() && e.compare(0, name.size() + 1, var, 0, name.size() + 1) == 0; };
    auto it = std::find_if(env.begin(), env.end(), same);
    if (it != env.end())
      *it = std::move(var);
    else
      env.push_back(std::move(var));
  }
}

}  // namespace tide::subprocess
