#include "process/child.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/log.hpp"
#include "core/wait.hpp"
#include "future/future.hpp"
#include "runtime/lua_call.hpp"
#include "runtime/shared_types.hpp"
#include "runtime/shutdown.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "shm/stored_message.hpp"

namespace tide::process {

namespace {
std::mutex g_identity_mutex;

// Completing can only fail for want of arena memory here; the parent then
// reports the exit status instead.
void complete_quietly(future::Future& f, const Outcome& o) noexcept {
  try {
    f.complete(o);
  } catch (const std::exception& e) {
    log::get().error("child cannot report its outcome: {}", e.what());
  }
}

std::string g_name = "MainProcess";
pid_t g_parent = 0;
}  // namespace

std::string current_name() {
  std::lock_guard lock(g_identity_mutex);
  return g_name;
}

pid_t parent_pid() noexcept {
  std::lock_guard lock(g_identity_mutex);
  return g_parent;
}

void prepare_child(pid_t parent) noexcept {
  runtime::reset_lua_dispositions();  // the child's fresh state has no tide.signal handlers
  reset_signals_after_fork();         // nor a main state until its work sets a handler
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  // SIGKILL, not SIGTERM: API.md §7 promises no child outlives a parent
  // killed with SIGKILL, and a child must not be able to ignore that.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kExitParentGone);
}

int run_child(const ChildInfo& info, lua_State* L) noexcept {
  {
    std::lock_guard lock(g_identity_mutex);
    g_name.assign(info.name, strnlen(info.name, sizeof info.name));
    g_parent = info.parent_pid;
  }
  log::set_thread_name(current_name());
  Ref<future::Future> fut;
  Message payload;
  try {
    // Proxies need the shared types known here (a spawned child knows none yet).
    runtime::register_shared_types();
    Ref<Object> obj = shm::proxy_for(info.future);
    auto* f = dynamic_cast<future::Future*>(obj.get());
    if (!f) throw Error(ErrorKind::TransferError, "not a Future");
    fut = Ref<future::Future>::share(f);
    payload = shm::load_message(info.payload);
  } catch (const std::exception& e) {
    log::get().error("child cannot load its work: {}", e.what());
    if (fut) complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, ErrorKind::TransferError});
    return kExitBadPayload;
  }
  log::get().debug("child {} started (parent {})", getpid(), info.parent_pid);
  int code = 1;
  try {
    if (!L) L = runtime::new_state();
    runtime::set_thread_state(L);
    runtime::install_sanitizer_cancel_check(L);
    Outcome out = runtime::run_call(L, payload);
    payload.clear();
    code = out.state == CompletionState::Completed ? 0 : 1;
    try {
      fut->complete(out);
    } catch (const Error& e) {
      // Results that cannot be stored in the arena (e.g. a Thread handle):
      // the parent gets the reason instead of a silent loss.
      complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, e.kind()});
      code = 1;
    }
  } catch (const std::exception& e) {
    log::get().error("child failed: {}", e.what());
    complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, ErrorKind::OSError});
  }
  fut = Ref<future::Future>();
  // As a Python child does: join the threads and processes the work left.
  bool all_done = runtime::shutdown_host({});
  if (L && all_done) {
    runtime::set_thread_state(nullptr);
    lua_close(L);
  }
  std::fflush(nullptr);
  return code;
}

}  // namespace tide::process
