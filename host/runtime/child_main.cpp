#include "runtime/child_main.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/log.hpp"
#include "future/future.hpp"
#include "process/child.hpp"
#include "process/child_record.hpp"
#include "runtime/run_call.hpp"
#include "thread/host_exit.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "shm/stored_message.hpp"

namespace tide::runtime {

namespace {

// Completing can only fail for want of arena memory here; the parent then
// reports the exit status instead.
void complete_quietly(future::Future& f, const Outcome& o) noexcept {
  try {
    f.complete(o);
  } catch (const std::exception& e) {
    log::get().error("child cannot report its outcome: {}", e.what());
  }
}

// The forkserver's warm state: made once, copied into every child by fork.
void* prepare_state() {
  return new_state();
}

int run_lua_child(const process::ChildInfo& info, void* prepared) noexcept {
  auto* L = static_cast<lua_State*>(prepared);
  process::set_identity(info);
  log::set_thread_name(process::current_name());
  Ref<future::Future> fut;
  // Borrowed (below): its proxy must never drop a reference, however this
  // function returns.
  struct Borrowed {
    Ref<future::Future>& f;
    ~Borrowed() { f.detach(); }
  } borrowed{fut};
  Message payload;
  try {
    // The Future is borrowed, not referenced: the parent's Process keeps
    // it alive until this child is reaped, and a reference of ours would
    // never be dropped if we are killed (the arena would keep the future).
    // The record is bytes from another process: process/child_record.hpp
    // checks it.
    Ref<future::Future> f = process::load_child_future(info);
    f->give_up_reference();
    fut = std::move(f);
    payload = process::load_child_payload(info);
  } catch (const std::exception& e) {
    log::get().error("child cannot load its work: {}", e.what());
    if (fut) complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, ErrorKind::TransferError});
    return process::kExitBadPayload;
  }
  log::get().debug("child {} started (parent {})", getpid(), info.parent_pid);
  int code = 1;
  try {
    if (!L) L = new_state();
    set_thread_state(L);
    install_sanitizer_cancel_check(L);
    Outcome out = run_call(L, payload);
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
  fut.detach();  // borrowed
  // As a Python child does: join the threads and processes the work left.
  bool all_done = shutdown_host({});
  if (L && all_done) {
    set_thread_state(nullptr);
    lua_close(L);
  }
  // Nothing of ours runs any more: what this child still holds (the fork
  // copies of its parent's handles) must not pin arena objects, garbage
  // cycles among them, until the whole process tree exits.
  if (all_done) shm::release_process_references();
  std::fflush(nullptr);
  return code;
}

}  // namespace

void install_child_runner() noexcept {
  process::set_child_runner({prepare_state, run_lua_child});
}

}  // namespace tide::runtime
