#include "shm/owner.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/fork_safe.hpp"
#include "shm/arena.hpp"

namespace tide::shm {

namespace {

// getpid() is a system call; lock paths ask for the pid on every acquire.
std::atomic<pid_t> g_pid{0};

void refresh_pid() { g_pid.store(getpid(), std::memory_order_relaxed); }
AtFork g_at_fork{nullptr, nullptr, refresh_pid};

}  // namespace

pid_t current_pid() noexcept {
  if (pid_t p = g_pid.load(std::memory_order_relaxed)) return p;
  refresh_pid();
  return g_pid.load(std::memory_order_relaxed);
}

namespace {

std::atomic<std::uint64_t> g_process_token{0};
std::atomic<pid_t> g_process_token_pid{0};
ForkSafeMutex g_process_mutex;  // a fork child finds it free (core/fork_safe.hpp)
thread_local std::uint64_t t_thread_token = 0;
thread_local pid_t t_thread_token_pid = 0;

}  // namespace

std::uint64_t process_token() {
  pid_t me = current_pid();
  if (g_process_token_pid.load(std::memory_order_acquire) == me)
    return g_process_token.load(std::memory_order_acquire);
  std::lock_guard lock(g_process_mutex);
  // A fork child inherits the parent's cached token: it claims its own.
  if (g_process_token_pid.load(std::memory_order_acquire) != me) {
    g_process_token.store(Arena::get().claim_owner_token(), std::memory_order_release);
    g_process_token_pid.store(me, std::memory_order_release);
  }
  return g_process_token.load(std::memory_order_acquire);
}

std::uint64_t thread_token() {
  pid_t me = current_pid();
  if (t_thread_token == 0 || t_thread_token_pid != me) {
    t_thread_token = Arena::get().claim_owner_token();
    t_thread_token_pid = me;
  }
  return t_thread_token;
}

void end_thread_token() noexcept {
  if (t_thread_token && t_thread_token_pid == current_pid()) Arena::get().release_owner_token(t_thread_token);
  t_thread_token = 0;
}

bool token_alive(std::uint64_t token) noexcept { return Arena::get().token_alive(token); }

// A zombie still answers kill(pid, 0), so /proc says the final word.
bool pid_alive(pid_t pid) noexcept {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return true;
  buf[n] = '\0';
  const char* close_paren = std::strrchr(buf, ')');  // the name may contain spaces
  return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}

}  // namespace tide::shm
