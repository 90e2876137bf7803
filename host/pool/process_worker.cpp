// Process workers (thread_pool.hpp): each slot of a process pool has a
// supervisor, a tide Thread of the pool's process, that starts the slot's
// worker process (a tide Process, so every start method works), waits for
// it to end and acts on how it ended. The wait is Process::wait (the
// child's pidfd, or the forkserver's status message, through wait_fd): a
// death is seen when it happens, never found by polling. With task_timeout
// the wait also ends at the held task's deadline.
//
// How a worker ended, from its slot's last state:
//   Stopped      the pool stopped: the supervisor leaves too;
//   Retired      max_tasks_per_worker reached: replaced;
//   InitFailed   the initializer raised: the pool breaks with its error;
//   Starting     died before it was ready (kMaxStartFailures times in a
//                row breaks the pool instead of respawning forever);
//   Idle / Busy  died: the task it held (if any) fails with WorkerDied,
//                or is queued again (`retries`); replaced (an actor's
//                worker only with `restart`: else the pool breaks).
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "pool/core.hpp"
#include "pool/serve.hpp"

namespace tide::pool {

namespace {

using process::Process;

constexpr int kMaxStartFailures = 3;
// How long a terminated worker may take to die of SIGTERM before SIGKILL.
constexpr double kTermGrace = 1.0;

enum class Ended { Exited, TimedOut, Terminated };

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

SlotState state_of(const WorkerSlot& s) { return static_cast<SlotState>(s.state.load(std::memory_order_acquire)); }

// Waits for a child that was sent a signal: a bounded wait (it is dying),
// so cancellation of this supervisor does not cut it short.
bool reap(Process& p, const Deadline& d) {
  WaitContext& ctx = WaitContext::current();
  for (;;) {
    try {
      return p.wait(d);
    } catch (const Error&) {
      ctx.clear_cancel();  // terminate() again: we are already at it
    }
  }
}

void kill_child(Process& p, bool at_once) {
  WaitContext::current().clear_cancel();
  if (!at_once) {
    p.send_signal(SIGTERM);
    if (reap(p, Deadline::after(kTermGrace))) return;
  }
  p.send_signal(SIGKILL);
  reap(p, Deadline::never());
}

// How the worker ended, for a WorkerDied text: "was killed by SIGKILL".
std::string how_ended(int code) {
  if (code < 0) return "was killed by " + process::signal_name(-code);
  return "exited with code " + std::to_string(code);
}

}  // namespace

void Core::supervise(Thread& self, int slot) {
  WorkerSlot& s = shared->slot(slot);
  if (!enter(self)) {
    worker_exited(self, false, slot);
    return;
  }
  const ProcessOptions& po = opt.process;
  int start_failures = 0;
  for (;;) {
    std::uint32_t f = shared->flags();
    if ((f & (kTerminate | kBroken)) || ((f & kShutdown) && shared->queue_empty())) break;
    const std::string name = next_name();
    s.state.store(static_cast<std::uint32_t>(SlotState::Starting), std::memory_order_release);
    auto child = Ref<Process>::make(payloads[static_cast<std::size_t>(slot)], name, true, po.method);
    const int channel = channels[static_cast<std::size_t>(slot)].supervisor;
    try {
      child->add_descriptors({channels[static_cast<std::size_t>(slot)].worker});
      child->start();
    } catch (const Error& e) {
      break_pool(failure(ErrorKind::BrokenPool, std::string("cannot start a worker process: ") + e.what()));
      break;
    }
    const pid_t pid = child->pid();
    log::debug("pool '{}': worker process '{}' started (pid {})", opt.name, name, pid);

    // ---- wait for it to end ----
    Ended how = Ended::Exited;
    for (;;) {
      Deadline d = Deadline::never();
      std::uint64_t seq = 0;
      bool busy = false;
      if (po.task_timeout > 0) {
        busy = state_of(s) == SlotState::Busy;
        seq = s.task_seq.load(std::memory_order_acquire);
        double started = double(s.started_ns.load(std::memory_order_relaxed)) * 1e-9;
        d = Deadline::after(busy ? started + po.task_timeout - now_s() : po.task_timeout);
      }
      try {
        // The child's end, or a request for descriptors (fd_channel.hpp).
        pollfd fds[2] = {{child->status_fd(), POLLIN, 0}, {channel, POLLIN, 0}};
        if (wait_fds(fds, 2, d) > 0) {
          if (fds[1].revents & POLLIN) fd_channel::serve_one(channel);
          if (child->wait(Deadline::after(0))) break;
          continue;
        }
      } catch (const Error&) {  // Cancelled: terminate()
        kill_child(*child, false);
        how = Ended::Terminated;
        break;
      }
      // The deadline: kill the worker if it still holds the same task.
      if (busy && state_of(s) == SlotState::Busy && s.task_seq.load(std::memory_order_acquire) == seq) {
        kill_child(*child, true);
        how = Ended::TimedOut;
        break;
      }
    }
    int code = child->exitcode().value_or(0);
    SlotState st = state_of(s);
    if (s.payload_refs.exchange(0, std::memory_order_acq_rel)) {  // it died holding them
      shm::release_shared(shared->shared_header());
      shm::release_shared(init_failure->shared_header());
    }
    std::string who = "worker '" + name + "' (pid " + std::to_string(pid) + ")";

    auto held = [&](Outcome out, bool retry) {
      out.worker = name;  // e.worker, as for a task that raised
      std::optional<TaskRecord> rec = shared->recover(slot);
      // The dead worker's own reference to the task's future, if it held one.
      bool dead_ref = s.future_ref.exchange(0, std::memory_order_acq_rel) != 0;
      if (!rec) return false;
      if (dead_ref) shm::release_shared(shm::Arena::get().at<shm::SharedHeader>(rec->future));
      try {
        Ref<future::Future> fut = future_of(*rec);
        if (retry && rec->attempts < static_cast<std::uint32_t>(po.retries) && fut->requeue()) {
          TaskRecord again = *rec;
          ++again.attempts;
          if (shared->push(again, true) == PoolShared::Pushed::Ok) {
            log::debug("pool '{}': {} {}; its task runs again (attempt {})", opt.name, who, how_ended(code),
                             again.attempts + 1);
            return true;
          }
        }
        fut->complete_abandoned(out);
      } catch (const std::exception& e) {
        log::error("pool '{}': a dead worker's task could not be failed: {}", opt.name, e.what());
      }
      close_record(*rec);
      return true;
    };

    if (how == Ended::Terminated) {
      held(failure(ErrorKind::Cancelled, "was cancelled: pool '" + opt.name + "' was terminated"), false);
      break;
    }
    if (how == Ended::TimedOut) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", po.task_timeout);
      held(failure(ErrorKind::Timeout, std::string("failed: it ran longer than task_timeout (") + limit + " s); " +
                                           who + " was killed"),
           false);
      start_failures = 0;
      continue;
    }
    if (st == SlotState::Stopped) break;
    if (st == SlotState::Retired) {
      start_failures = 0;
      log::debug("pool '{}': {} retired after {} tasks", opt.name, who, opt.max_tasks_per_worker);
      continue;
    }
    if (st == SlotState::InitFailed) {
      Outcome cause;
      try {
        if (init_failure->done()) cause = init_failure->outcome();
      } catch (const std::exception&) {
      }
      if (cause.state != CompletionState::Failed) cause = failure(ErrorKind::WorkerDied, "the initializer failed");
      break_pool(std::move(cause));
      break;
    }
    if (st == SlotState::Starting) {
      if (++start_failures >= kMaxStartFailures) {
        Outcome died = failure(ErrorKind::WorkerDied, who + " " + how_ended(code) + " before it was ready, " +
                                                          std::to_string(start_failures) + " times in a row");
        died.has_exitcode = true;
        died.exitcode = code;
        break_pool(std::move(died));
        break;
      }
      log::debug("pool '{}': {} {} before it was ready; starting another", opt.name, who, how_ended(code));
      continue;
    }
    // Idle or Busy: it died.
    start_failures = 0;
    Outcome died = failure(ErrorKind::WorkerDied, "failed: " + who + " " + how_ended(code) + " while running it");
    died.has_exitcode = true;
    died.exitcode = code;
    if (opt.actor && !opt.restart) {
      // An actor without restart ends with its process: the call it ran
      // fails, then what is queued (break_pool), and later calls raise.
      Outcome dead = died;
      dead.text = who + " " + how_ended(code);
      held(std::move(died), false);
      break_pool(std::move(dead));
      break;
    }
    if (!held(std::move(died), true))
      log::debug("pool '{}': idle {} {}; replacing it", opt.name, who, how_ended(code));
  }
  s.state.store(static_cast<std::uint32_t>(SlotState::Empty), std::memory_order_release);
  worker_exited(self, false, slot);
}

}  // namespace tide::pool
