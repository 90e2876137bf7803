#include "subprocess/child.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "thread/host_exit.hpp"

namespace tide::subprocess {

namespace {

// Started, unreaped children of this process. Lock order: a Child's m_ and
// the registry's m are never held together (track and the sweep take a
// snapshot, then reap outside the registry lock). A fork child gets a fresh
// registry: the old one is left as it is (its mutex may be held by a thread
// that does not exist there; its children are not the fork child's), chained
// to the new one so that leak checkers at the child's exit still reach it.
struct Registry {
  std::mutex m;
  std::vector<std::shared_ptr<Child>> kids;
  Registry* inherited = nullptr;  // renew_after_fork
};
Registry* g_reg = new Registry;  // never destroyed: the exit hook runs late
std::once_flag g_once;

void after_fork_child() { renew_after_fork(g_reg); }
AtFork g_at_fork{nullptr, nullptr, after_fork_child};

std::vector<std::shared_ptr<Child>> snapshot() {
  std::lock_guard lock(g_reg->m);
  return g_reg->kids;
}

void untrack(const Child* c) {
  std::shared_ptr<Child> drop;  // released after the registry lock
  std::lock_guard lock(g_reg->m);
  auto& kids = g_reg->kids;
  auto it = std::find_if(kids.begin(), kids.end(), [c](const auto& k) { return k.get() == c; });
  if (it != kids.end()) {
    drop = std::move(*it);
    kids.erase(it);
  }
}

// Host exit after Ctrl-C: every child still running gets SIGTERM, then
// SIGKILL after kExitGrace seconds (at once after another Ctrl-C).
void exit_hook(const ExitContext& ctx) noexcept {
  if (!ctx.interrupted) return;
  try {
    auto kids = snapshot();
    if (kids.empty()) return;
    log::debug("stopping {} subprocess children at exit", kids.size());
    for (auto& k : kids) k->signal_group(SIGTERM);
    Deadline grace = Deadline::after(kExitGrace);
    for (auto& k : kids) {
      try {
        k->wait(grace);
      } catch (const Error&) {
        break;  // Ctrl-C again: no more patience
      }
    }
    for (auto& k : kids) k->kill_and_reap();
  } catch (const std::exception& e) {
    log::error("stopping subprocess children at exit: {}", e.what());
  }
}

}  // namespace

Child::Child(pid_t pid, UniqueFd pidfd, bool leader)
    : pid_(pid), owner_(getpid()), pidfd_(std::move(pidfd)), leader_(leader) {
  if (!pidfd_) {
    // Reaped by someone else before we could open it (os.waitpid(-1)).
    reaped_ = true;
    log::warn("subprocess pid {} was reaped elsewhere; its return code is unknown (0)", pid_);
  }
}

std::optional<int> Child::returncode() const {
  std::lock_guard lock(m_);
  if (!reaped_) return std::nullopt;
  return code_;
}

bool Child::reap_locked() {
  if (reaped_) return true;
  if (owner_ != getpid()) throw Error(ErrorKind::InvalidState, "this subprocess is not a child of this process");
  siginfo_t info{};
  int r;
  do {
    r = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno != ECHILD) throw_os_error("waitid", errno);
    // Reaped behind our back (os.waitpid(-1), or SIGCHLD set to "ignore"):
    // the status is lost. Python reports 0 then, and so do we.
    log::warn("subprocess pid {} was reaped elsewhere; its return code is unknown (0)", pid_);
    code_ = 0;
  } else if (info.si_pid == 0) {
    return false;
  } else {
    code_ = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
  }
  reaped_ = true;
  return true;
}

std::optional<int> Child::poll() {
  bool newly;
  int code;
  {
    std::lock_guard lock(m_);
    if (reaped_) return code_;
    if (!reap_locked()) return std::nullopt;
    newly = true;
    code = code_;
  }
  if (newly) untrack(this);
  return code;
}

std::optional<int> Child::wait(const Deadline& d) {
  for (;;) {
    if (auto rc = poll()) return rc;
    // The pidfd turns readable when the child ends and stays so until it
    // is reaped; it lives as long as this object, which the caller holds.
    if (wait_fd(pidfd_.get(), POLLIN, d) == 0) return poll();
  }
}

void Child::send_signal(int sig) {
  std::lock_guard lock(m_);
  if (reaped_) return;
  if (owner_ != getpid()) throw Error(ErrorKind::InvalidState, "this subprocess is not a child of this process");
  if (syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH)
    throw_os_error("pidfd_send_signal", errno);
}

void Child::signal_group(int sig) {
  if (!leader_) return send_signal(sig);
  // The group's id is the leader's pid, which cannot be reused while the
  // leader is unreaped (it is: we hold m_ and it is not reaped).
  std::lock_guard lock(m_);
  if (reaped_ || owner_ != getpid()) return;
  if (killpg(pid_, sig) != 0 && errno != ESRCH && errno != EPERM) throw_os_error("killpg", errno);
}

void Child::kill_and_reap() noexcept {
  try {
    signal_group(SIGKILL);
    // A plain poll, not wait_fd: this runs on error paths (Ctrl-C, a
    // cancelled thread, a timeout) that must not be cut short again, and
    // SIGKILL ends the child at once unless it is stuck in the kernel (an
    // uninterruptible disk wait), which the bound covers: then it stays in
    // the registry.
    Deadline d = Deadline::after(10.0);
    while (!poll() && !d.passed()) {
      pollfd p{pidfd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) < 0 && errno != EINTR) throw_os_error("poll", errno);
    }
  } catch (const std::exception& e) {
    log::warn("subprocess pid {}: cannot kill and reap it: {}", pid_, e.what());
  }
}

void track(const std::shared_ptr<Child>& child) {
  std::call_once(g_once, [] { on_host_exit(exit_hook); });
  // Reap the ones that ended unwaited for, as Python's Popen does on start.
  for (auto& k : snapshot()) {
    try {
      k->poll();
    } catch (const Error&) {
    }
  }
  if (child->returncode()) return;
  std::lock_guard lock(g_reg->m);
  g_reg->kids.push_back(child);
}

std::size_t tracked_count() {
  std::lock_guard lock(g_reg->m);
  return g_reg->kids.size();
}

}  // namespace tide::subprocess
