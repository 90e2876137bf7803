#include "process/launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/sigpipe.hpp"
#include "shm/arena.hpp"

extern char** environ;

namespace tide::process {

namespace {
ForkSafeMutex g_command_mutex;  // a fork child finds it free (core/fork_safe.hpp)
std::string g_command;

bool executable(const std::string& p) { return access(p.c_str(), X_OK) == 0; }
}  // namespace

void set_tide_command(std::string path) {
  std::lock_guard lock(g_command_mutex);
  g_command = std::move(path);
}

std::string tide_command() {
  std::lock_guard lock(g_command_mutex);
  if (!g_command.empty()) return g_command;
  if (const char* env = std::getenv("TIDE_EXECUTABLE"); env && *env) return env;
#ifdef TIDE_INSTALLED_COMMAND
  // The tide command installed beside this library (cmake --install), for
  // programs that embed tide and are not themselves the command.
  if (executable(TIDE_INSTALLED_COMMAND)) return g_command = TIDE_INSTALLED_COMMAND;
#endif
  if (const char* path = std::getenv("PATH")) {
    std::string all(path);
    std::size_t start = 0;
    while (start <= all.size()) {
      std::size_t end = all.find(':', start);
      if (end == std::string::npos) end = all.size();
      std::string candidate = all.substr(start, end - start) + "/tide";
      if (end > start && executable(candidate)) return g_command = candidate;
      start = end + 1;
    }
  }
  throw Error(ErrorKind::OSError,
              "the spawn and forkserver start methods need the tide command: set TIDE_EXECUTABLE", ENOENT);
}

pid_t fork_child(const ChildInfo& info) {
  // The child's Lua state, made before the fork (once per process): building
  // a fresh one in every child cost it 0.3-0.5 ms and ~25 page faults.
  void* warm = warm_child_work();
  std::fflush(nullptr);  // or the child would print our buffered output again
  pid_t parent = getpid();
  // Signals stay blocked across fork() until the child has reset its
  // handlers (prepare_child), so none runs a parent handler in the child.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  int err = errno;
  if (pid != 0) pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw_os_error("fork", err);
  if (pid == 0) {
    prepare_child(parent);
    int code = run_child(info, warm);
    _exit(code);
  }
  return pid;
}

pid_t spawn_command(const std::vector<std::string>& args, const std::vector<int>& inherit) {
  std::string exe = tide_command();
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  // dup2 onto itself clears FD_CLOEXEC in the child only (glibc >= 2.29),
  // so no other thread's descriptors leak into the child meanwhile.
  for (int fd : inherit) posix_spawn_file_actions_adddup2(&fa, fd, fd);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  argv.push_back(exe.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw Error(ErrorKind::OSError, "cannot spawn " + exe + ": " + std::string(strerror(err)), err);
  return pid;
}

pid_t spawn_worker(const ChildInfo& info, const std::vector<int>& extra) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw_os_error("pipe", errno);
  int arena = shm::Arena::get().fd();
  pid_t pid;
  try {
    std::vector<int> inherit{arena, fds[0]};
    inherit.insert(inherit.end(), extra.begin(), extra.end());
    pid = spawn_command({"--worker", std::to_string(arena), std::to_string(fds[0])}, inherit);
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[0]);
  // 128 bytes into an empty pipe: one write, never partial, never blocks.
  // A child that already died must not kill this process with SIGPIPE.
  ssize_t n;
  do {
    n = write_nosigpipe(fds[1], &info, sizeof info);
  } while (n < 0 && errno == EINTR);
  close(fds[1]);
  // A short write leaves the child reading EOF: it exits kExitBadPayload
  // and the parent reports that exit status.
  return pid;
}

}  // namespace tide::process
