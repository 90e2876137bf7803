#include "process/children.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include "core/error.hpp"
#include "core/wait.hpp"

namespace tide::process {

namespace {

WaitWord g_children;  // bumped on every SIGCHLD
struct sigaction g_previous;

void on_sigchld(int sig, siginfo_t* info, void* uctx) {
  int saved = errno;
  g_children.notify_all();  // atomics and a futex wake: async-signal-safe
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, uctx);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  }
  errno = saved;
}

struct sigaction children_action() {
  struct sigaction sa = {};
  sa.sa_sigaction = on_sigchld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  return sa;
}

}  // namespace

void watch_children() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = children_action();
    sigaction(SIGCHLD, &sa, &g_previous);
  });
}

void notify_children() noexcept { g_children.notify_all(); }

void reinstall_children_handler() {
  watch_children();
  struct sigaction sa = children_action();
  if (sigaction(SIGCHLD, &sa, nullptr) != 0) throw_os_error("sigaction", errno);
}

bool is_children_handler(const struct sigaction& sa) noexcept {
  return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == on_sigchld;
}

pid_t wait_child(pid_t pid, int* status, int flags, const Deadline& deadline) {
  auto try_wait = [&] {
    pid_t r;
    do {
      r = waitpid(pid, status, flags | WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r < 0) throw_os_error("waitpid", errno);
    return r;
  };
  if (flags & WNOHANG) return try_wait();
  if (pid > 0) {
    // One child: its pidfd becomes readable when it exits, and stays so
    // until reaped, so waiting on it needs no signal and cannot miss.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      struct Closer {
        int fd;
        ~Closer() { close(fd); }
      } closer{pidfd};
      for (;;) {
        if (pid_t r = try_wait()) return r;
        if (wait_fd(pidfd, POLLIN, deadline) == 0) return 0;
      }
    }
    if (errno == ESRCH) throw_os_error("waitpid", ECHILD);
  }
  watch_children();
  pid_t result = 0;
  wait_until(g_children, deadline, [&] { return (result = try_wait()) != 0; });
  return result;
}

}  // namespace tide::process
