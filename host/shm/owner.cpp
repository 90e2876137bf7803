#include "shm/owner.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "core/fork_safe.hpp"
#include "shm/arena.hpp"

namespace tide::shm {

namespace {

// getpid() is a system call; lock paths ask for the pid on every acquire.
std::atomic<pid_t> g_pid{0};
std::once_flag g_pid_once;

void refresh_pid() { g_pid.store(getpid(), std::memory_order_relaxed); }

}  // namespace

pid_t current_pid() noexcept {
  std::call_once(g_pid_once, [] {
    refresh_pid();
    pthread_atfork(nullptr, nullptr, refresh_pid);
  });
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

}  // namespace tide::shm
