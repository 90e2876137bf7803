#include "process/child.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/wait.hpp"
#include "shm/arena.hpp"

namespace tide::process {

namespace {

// Written only by set_identity, at a child's start, before the child has
// any other thread; read from any thread afterwards. So no lock: nothing to
// be held across a fork, and a fork child sees a value no one is writing.
std::string g_name = "MainProcess";
pid_t g_parent = 0;

// Set once (the runtime's install, or the command before its hidden modes)
// before any child starts; inherited by fork children as written.
std::atomic<void* (*)()> g_prepare{nullptr};
std::atomic<void* (*)() noexcept> g_warm{nullptr};
std::atomic<int (*)(const ChildInfo&, void*) noexcept> g_run{nullptr};

}  // namespace

std::string current_name() { return g_name; }

pid_t parent_pid() noexcept { return g_parent; }

void set_identity(const ChildInfo& info) {
  g_name.assign(info.name, std::min<std::size_t>(info.name_len, sizeof info.name));
  g_parent = info.parent_pid;
}

void set_child_runner(ChildRunner runner) noexcept {
  g_prepare.store(runner.prepare, std::memory_order_release);
  g_warm.store(runner.warm, std::memory_order_release);
  g_run.store(runner.run, std::memory_order_release);
}

void* prepare_child_work() {
  auto prepare = g_prepare.load(std::memory_order_acquire);
  return prepare ? prepare() : nullptr;
}

void* warm_child_work() noexcept {
  auto warm = g_warm.load(std::memory_order_acquire);
  return warm ? warm() : nullptr;
}

int run_child(const ChildInfo& info, void* prepared) noexcept {
  auto run = g_run.load(std::memory_order_acquire);
  int code = run ? run(info, prepared) : kExitBadPayload;
  // The caller ends with _exit, which runs no thread-exit destructors: the
  // cache goes back now instead of waiting to be adopted as a dead one's.
  shm::Arena::end_thread_cache();
  return code;
}

void prepare_child(pid_t parent) noexcept {
  // Dispositions first, then the mask (libuv's order): a signal pending
  // since the fork must not run the parent's handler in the child.
  reset_routed_signals();   // the child's fresh states have no tide.signal handlers
  reset_signals_after_fork();  // nor a main state until its work sets a handler
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // SIGKILL, not SIGTERM: API.md §7 promises no child outlives a parent
  // killed with SIGKILL, and a child must not be able to ignore that.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kExitParentGone);
}

}  // namespace tide::process
