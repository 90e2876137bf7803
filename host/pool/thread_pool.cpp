#include "pool/thread_pool.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "pool/core.hpp"
#include "pool/serve.hpp"
#include "shm/owner.hpp"

namespace tide::pool {

using future::Future;

namespace {

std::atomic<int> g_thread_pools{0}, g_process_pools{0};

// Every pool core of this process, for shutdown at exit. A fork child
// inherits the list but skips its entries (their pid is the parent's).
ForkSafeMutex g_cores_m;  // a fork child finds it free (core/fork_safe.hpp)
std::vector<std::weak_ptr<Core>>* g_cores = new std::vector<std::weak_ptr<Core>>;  // never destroyed

class WorkerBody final : public ThreadBody {
 public:
  WorkerBody(std::shared_ptr<Core> core, int slot) : core_(std::move(core)), slot_(slot) {}
  Outcome run(Thread& self) noexcept override {
    if (core_->opt.kind == WorkerKind::Process)
      core_->supervise(self, slot_);
    else
      core_->work_loop(self);
    core_.reset();
    return Outcome{};
  }

 private:
  std::shared_ptr<Core> core_;
  int slot_;
};

// Fails (or cancels) records taken out of the queue.
void settle(std::vector<TaskRecord>& records, const Outcome* out) noexcept {
  for (const TaskRecord& r : records) {
    try {
      Ref<Future> f = future_of(r);
      if (f && !(out && f->complete(*out))) f->cancel();
    } catch (const std::exception&) {
    }
    close_record(r);
  }
  records.clear();
}

}  // namespace

Core::~Core() {
  // Normally empty: workers drain the queue before they leave.
  if (shared && pid == shm::current_pid()) {
    std::vector<TaskRecord> left = shared->stop(kTerminate, true);
    settle(left, nullptr);
  }
  if (pid == shm::current_pid())
    for (auto& c : channels) {
      ::close(c.supervisor);
      ::close(c.worker);
    }
}

std::string Core::next_name() {
  std::lock_guard lock(m);
  return opt.name + "_" + std::to_string(next_index++);
}

void Core::start_worker(int slot) {
  std::string name = opt.kind == WorkerKind::Process ? opt.name + "/supervisor_" + std::to_string(slot) : next_name();
  auto t = Ref<Thread>::make(std::make_unique<WorkerBody>(shared_from_this(), slot), name, true);
  {
    std::lock_guard lock(m);
    threads.push_back(t);
  }
  try {
    t->start();
  } catch (const Error&) {
    std::lock_guard lock(m);
    std::erase_if(threads, [&](const Ref<Thread>& w) { return w.get() == t.get(); });
    --live;
    throw;
  }
}

bool Core::is_own_worker() {
  Ref<Thread> me = Thread::current();
  std::lock_guard lock(m);
  return std::any_of(threads.begin(), threads.end(), [&](const Ref<Thread>& w) { return w.get() == me.get(); });
}

bool Core::enter(Thread& self) {
  std::lock_guard lock(m);
  entered.push_back(&self);  // worker_exited removes it
  return !(shared->flags() & kTerminate) && !WaitContext::current().cancel_requested();
}

void Core::work_loop(Thread& self) {
  const std::string worker = self.name();
  if (!enter(self)) {
    worker_exited(self, false, -1);
    return;
  }
  std::unique_ptr<TaskRunner> runner;
  try {
    runner = opt.runner();
  } catch (const std::exception& e) {
    break_pool(failure(ErrorKind::BrokenPool, std::string("cannot start a worker: ") + e.what()));
    worker_exited(self, false, -1);
    return;
  }
  Outcome init = runner->init();
  if (init.state != CompletionState::Completed) {
    runner.reset();
    // terminate() is not the initializer's failure.
    if (!WaitContext::current().cancel_requested() && !terminating()) break_pool(std::move(init));
    worker_exited(self, false, -1);
    return;
  }
  ServeEnd end = serve(*shared, -1, *runner, worker, opt.name);
  if (end == ServeEnd::Stopped && !terminating() && !WaitContext::current().cancel_requested()) runner->finish();
  runner.reset();  // the worker's Lua state closes on its own thread
  worker_exited(self, end == ServeEnd::Retired, -1);
}

void Core::worker_exited(Thread& self, bool retire, int slot) {
  bool replace;
  {
    std::lock_guard lock(m);
    auto it = std::find_if(threads.begin(), threads.end(), [&](const Ref<Thread>& t) { return t.get() == &self; });
    // Kept until its Thread has finished, so a wait for the workers can
    // wait for that too (after shutdown{wait=true} none is alive).
    std::erase_if(finishing, [](const Ref<Thread>& t) { return !t->is_alive(); });
    if (it != threads.end()) {
      finishing.push_back(std::move(*it));
      threads.erase(it);
    }
    std::erase(entered, &self);
    // After shutdown a retiring worker is still replaced while work is
    // queued: shutdown finishes what was submitted.
    std::uint32_t f = shared->flags();
    replace = retire && !(f & (kBroken | kTerminate)) && (!(f & kShutdown) || !shared->queue_empty());
    if (!replace) --live;
  }
  if (replace) {
    log::debug("pool '{}': replacing worker '{}' after {} tasks", opt.name, self.name(),
                     opt.max_tasks_per_worker);
    try {
      start_worker(slot);
    } catch (const Error& e) {
      break_pool(failure(ErrorKind::BrokenPool, std::string("cannot replace a worker: ") + e.what()));
    }
  }
  exited.notify_all();
}

void Core::break_pool(Outcome cause) {
  // An actor's end is its death (API.md §16): WorkerDied, whatever ended it.
  std::string text = opt.actor ? "actor '" + opt.name + "' is dead: " : "pool '" + opt.name + "' is broken: ";
  const char* init = opt.actor ? "creating it raised: " : "the initializer raised: ";
  text += cause.failure_kind == ErrorKind::RemoteError ? init + cause.text : cause.text;
  Outcome out = failure(opt.actor ? ErrorKind::WorkerDied : ErrorKind::BrokenPool, text);
  out.values = std::move(cause.values);  // the initializer's error: the cause
  out.traceback = std::move(cause.traceback);
  out.has_exitcode = cause.has_exitcode;  // a worker process that kept dying
  out.exitcode = cause.exitcode;
  std::vector<TaskRecord> pending;
  {
    std::lock_guard lock(m);
    if (broken) return;
    broken = true;
    broken_outcome = out;
    pending = shared->stop(kBroken, true);
  }
  log::error("{}{}{}", text, out.traceback.empty() ? "" : "\n", out.traceback);
  out.text = "failed: " + text;
  settle(pending, &out);
}

void Core::stop(bool cancel_futures, bool cancel_running) {
  std::vector<TaskRecord> dropped;
  std::vector<Ref<Thread>> running;
  {
    std::lock_guard lock(m);
    dropped = shared->stop(kShutdown | (cancel_running ? kTerminate : 0), cancel_futures || cancel_running);
    if (cancel_running)
      for (auto& t : threads)
        if (std::find(entered.begin(), entered.end(), t.get()) != entered.end()) running.push_back(t);
  }
  settle(dropped, nullptr);
  for (auto& t : running) {
    try {
      t->cancel();
    } catch (const Error&) {
    }
  }
}

bool Core::wait_idle(const Deadline& d) {
  if (!wait_until(exited, d, [&] {
        std::lock_guard lock(m);
        return live == 0;
      }))
    return false;
  std::vector<Ref<Thread>> left;
  {
    std::lock_guard lock(m);
    left = finishing;
  }
  for (auto& t : left)
    if (!t->wait(d)) return false;
  std::lock_guard lock(m);
  std::erase_if(finishing, [](const Ref<Thread>& t) { return !t->is_alive(); });
  return true;
}

// ---- Pool --------------------------------------------------------------------

std::string default_name(WorkerKind kind) {
  return kind == WorkerKind::Process ? "ProcessPool-" + std::to_string(g_process_pools.fetch_add(1) + 1)
                                     : "ThreadPool-" + std::to_string(g_thread_pools.fetch_add(1) + 1);
}

const char* Pool::type_name() const noexcept {
  return core_->opt.kind == WorkerKind::Process ? kProcessTypeName : kThreadTypeName;
}

Ref<Pool> Pool::create(Options options) {
  if (options.workers < 1) throw Error(ErrorKind::ArgumentError, "a pool needs at least one worker");
  bool procs = options.kind == WorkerKind::Process;
  if (options.name.empty()) options.name = default_name(options.kind);
  auto core = std::make_shared<Core>();
  core->opt = std::move(options);
  core->pid = shm::current_pid();
  if (procs) {
    ProcessOptions& po = core->opt.process;
    if (!po.shared || po.shared->nslots() != core->opt.workers || !po.init_failure ||
        po.payloads.size() != static_cast<std::size_t>(core->opt.workers))
      throw Error(ErrorKind::InvalidState, "a process pool needs its shared part and one payload per worker");
    core->shared = po.shared;
    core->init_failure = po.init_failure;
    core->payloads = std::move(po.payloads);
    for (int i = 0; i < core->opt.workers; ++i) {
      core->channels.push_back(fd_channel::make());
      core->shared->slot(i).channel_fd = core->channels.back().worker;
    }
  } else {
    core->shared = PoolShared::create(0, core->opt.max_tasks_per_worker);
  }
  core->live = core->opt.workers;
  Ref<Pool> pool = Ref<Pool>::adopt(new Pool(core));
  for (int i = 0; i < core->opt.workers; ++i) {
    try {
      core->start_worker(procs ? i : -1);
    } catch (const Error&) {
      std::lock_guard lock(core->m);
      core->live -= core->opt.workers - i - 1;  // the ones never started
      if (i == 0) throw;
      break;  // fewer workers than asked: still a working pool
    }
  }
  {
    std::lock_guard lock(g_cores_m);
    std::erase_if(*g_cores, [](const std::weak_ptr<Core>& w) { return w.expired(); });
    g_cores->push_back(core);
  }
  log::debug("pool '{}' started with {} {} workers", core->opt.name, core->opt.workers,
                   procs ? process::method_name(core->opt.process.method) : "thread");
  return pool;
}

Pool::~Pool() {
  if (core_->pid == shm::current_pid()) core_->stop(false, false);
}

Ref<Future> push_task(PoolShared& shared, bool stored, std::shared_ptr<const FunctionBlob> fn, Message args,
                      PoolShared::Pushed& pushed) {
  Ref<Future> fut = Future::create();
  TaskRecord rec = stored ? stored_record(fut, *fn, args) : local_record(Task{fut, std::move(fn), 0, std::move(args)});
  try {
    pushed = shared.push(rec);
  } catch (...) {
    close_record(rec);
    throw;
  }
  if (pushed == PoolShared::Pushed::Ok) return fut;
  close_record(rec);
  return {};
}

Ref<Future> Pool::submit(std::shared_ptr<const FunctionBlob> fn, Message args) {
  Core& c = *core_;
  if (c.pid != shm::current_pid())
    throw Error(ErrorKind::BrokenPool, "pool '" + c.opt.name + "' has no workers in this forked process");
  PoolShared::Pushed r;
  Ref<Future> fut = push_task(*c.shared, c.opt.kind == WorkerKind::Process, std::move(fn), std::move(args), r);
  if (fut) return fut;
  if (r == PoolShared::Pushed::Broken) throw Error(ErrorKind::BrokenPool, broken_outcome().text);
  throw Error(ErrorKind::InvalidState, "cannot submit to pool '" + c.opt.name + "' after shutdown");
}

void Pool::shutdown(bool wait, bool cancel_futures) {
  if (core_->pid != shm::current_pid()) return;
  core_->stop(cancel_futures, false);
  if (!wait) return;
  if (core_->is_own_worker())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' cannot wait for itself from one of its workers");
  core_->wait_idle(Deadline::never());
}

void Pool::terminate(bool wait) {
  if (core_->pid != shm::current_pid()) return;
  bool own = core_->is_own_worker();
  core_->stop(true, true);
  if (wait && !own) core_->wait_idle(Deadline::never());
}

bool Pool::join(const Deadline& deadline) {
  if (core_->pid != shm::current_pid()) return true;
  if (!is_shutdown())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' is still running: close() or shutdown() it first");
  if (core_->is_own_worker())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' cannot wait for itself from one of its workers");
  return core_->wait_idle(deadline);
}

const std::string& Pool::name() const noexcept { return core_->opt.name; }
Ref<PoolShared> Pool::shared_part() const noexcept { return core_->shared; }
int Pool::workers() const noexcept { return core_->opt.workers; }
WorkerKind Pool::kind() const noexcept { return core_->opt.kind; }
process::StartMethod Pool::start_method() const noexcept { return core_->opt.process.method; }

bool Pool::is_shutdown() const { return (core_->shared->flags() & kShutdown) != 0; }

bool Pool::broken() const {
  std::lock_guard lock(core_->m);
  return core_->broken;
}

Outcome Pool::broken_outcome() const {
  std::lock_guard lock(core_->m);
  return core_->broken_outcome;
}

void Pool::shutdown_all(bool interrupted, double grace) noexcept {
  std::vector<std::shared_ptr<Core>> cores;
  {
    std::lock_guard lock(g_cores_m);
    for (auto& w : *g_cores)
      if (auto c = w.lock(); c && c->pid == shm::current_pid()) cores.push_back(std::move(c));
  }
  if (!interrupted) {
    try {
      for (auto& c : cores) c->stop(false, false);
      for (auto& c : cores) c->wait_idle(Deadline::never());
      return;
    } catch (const Error&) {
      log::warn("interrupted while waiting for pools at exit; cancelling their tasks");
    }
  }
  for (auto& c : cores) c->stop(true, true);
  Deadline d = Deadline::after(grace);
  for (auto& c : cores) {
    try {
      if (!c->wait_idle(d)) log::warn("pool '{}': tasks still running at exit", c->opt.name);
    } catch (const Error&) {
    }
  }
}

}  // namespace tide::pool
