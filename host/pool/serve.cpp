#include "pool/serve.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "pipe/connection.hpp"
#include "pool/fd_channel.hpp"

namespace tide::pool {

Outcome failure(ErrorKind kind, std::string text) {
  Outcome o;
  o.state = CompletionState::Failed;
  o.failure_kind = kind;
  o.text = std::move(text);
  return o;
}

namespace {

void finish(future::Future& f, Outcome out, const std::string& worker, const std::string& pool_name) noexcept {
  if (out.state == CompletionState::Failed) out.worker = worker;
  try {
    f.complete(out);
    return;
  } catch (const Error& e) {
    // Results that cannot be stored (a process-local object, arena full)
    // fail the task instead of losing it.
    try {
      f.complete(failure(e.kind(), std::string("failed: its result could not be stored: ") + e.what()));
      return;
    } catch (const std::exception&) {
    }
  } catch (const std::exception&) {
  }
  log::error("pool '{}': a task's outcome could not be stored", pool_name);
}

// A record whose task cannot even be opened (its arguments no longer load)
// fails with the reason.
void fail_record(const TaskRecord& r, const std::exception& e) noexcept {
  try {
    Ref<future::Future> f = future_of(r);
    if (f) f->complete(failure(ErrorKind::TransferError, std::string("failed: its task could not be received: ") + e.what()));
  } catch (const std::exception&) {
  }
}

}  // namespace

ServeEnd serve(PoolShared& pool, int slot, TaskRunner& runner, const std::string& worker,
               const std::string& pool_name) noexcept {
  WaitContext& ctx = WaitContext::current();
  int max = pool.max_tasks();
  int done = 0;
  std::atomic<std::uint32_t>* ledger = slot >= 0 ? &pool.slot(slot).future_ref : nullptr;
  while (!ctx.cancel_requested()) {
    std::optional<TaskRecord> rec = pool.take(slot);
    if (!rec) return ServeEnd::Stopped;
    Task task;
    bool go = false;
    try {
      task = open_record(*rec, ledger);
      go = task.future->set_running_or_notify_cancel();
      // Pipe connections made after this worker process started: their
      // descriptors come from the supervisor.
      if (go && slot >= 0 && pool.slot(slot).channel_fd >= 0)
        if (auto lacking = pipe::lacking_descriptor(task.args); !lacking.empty())
          fd_channel::fetch(pool.slot(slot).channel_fd, lacking);
    } catch (const Error& e) {
      // Completed by someone else (set_result on a pool future), or a task
      // that cannot be received.
      if (!task.future) fail_record(*rec, e);
    }
    if (go) {
      Outcome out = runner.run(task);
      if (ctx.cancel_requested() && out.state == CompletionState::Failed)
        out = failure(ErrorKind::Cancelled, "was cancelled: pool '" + pool_name + "' was terminated");
      finish(*task.future, std::move(out), worker, pool_name);
    }
    if (ledger) ledger->store(0, std::memory_order_release);
    task = Task{};
    pool.release_held(slot);
    close_record(*rec);
    if (go && max > 0 && ++done >= max) return ServeEnd::Retired;
  }
  return ServeEnd::Stopped;
}

}  // namespace tide::pool
