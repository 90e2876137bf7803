#include "pool/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "core/spin.hpp"
#include "core/wait.hpp"
#include "shm/owner.hpp"

namespace tide::pool {

using future::Future;

struct Core : std::enable_shared_from_this<Core> {
  Options opt;
  pid_t pid = 0;  // a fork child has none of these workers

  std::mutex m;  // guards the fields up to `exited`
  std::deque<Task> queue;
  std::vector<Ref<Thread>> threads;  // live workers (cycle broken as they exit)
  // Workers inside work_loop: the only ones terminate() may cancel (a Thread
  // cancelled before its body starts never runs it, so would never report
  // its exit); the others see `terminating` on entry and leave.
  std::vector<Thread*> entered;
  int live = 0;
  int next_index = 0;
  bool shutdown = false;
  bool terminating = false;
  bool broken = false;
  Outcome broken_outcome;  // BrokenPool, text "pool 'X' is broken: ...", the cause
  WaitWord work;    // a task was queued, or shutdown / broken
  WaitWord exited;  // a worker exited
  // Read without the lock by idle workers spinning before they sleep: a
  // submitter then wakes nobody (no system call) while a worker spins.
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> stopping{false};  // shutdown || broken
  std::atomic<std::size_t> spinning{0};  // idle workers not (yet) asleep
  AdaptiveSpin spin;

  void start_worker();
  void work_loop(Thread& self);
  std::optional<Task> take();
  void finish(Task& task, Outcome out, const std::string& worker);
  void worker_exited(Thread& self, bool retire);
  void break_pool(Outcome cause);
  void stop(bool cancel_futures, bool cancel_running);
  bool wait_idle(const Deadline& d);
  bool is_own_worker();
};

namespace {

std::atomic<int> g_pool_counter{0};

// Every pool core of this process, for shutdown at exit.
ForkSafeMutex g_cores_m;  // a fork child finds it free (core/fork_safe.hpp)
std::vector<std::weak_ptr<Core>>* g_cores = new std::vector<std::weak_ptr<Core>>;  // never destroyed

class WorkerBody final : public ThreadBody {
 public:
  explicit WorkerBody(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  Outcome run(Thread& self) noexcept override {
    core_->work_loop(self);
    core_.reset();
    return Outcome{};
  }

 private:
  std::shared_ptr<Core> core_;
};

Outcome failure(ErrorKind kind, std::string text) {
  Outcome o;
  o.state = CompletionState::Failed;
  o.failure_kind = kind;
  o.text = std::move(text);
  return o;
}

}  // namespace

void Core::start_worker() {
  std::string name;
  {
    std::lock_guard lock(m);
    name = opt.name + "_" + std::to_string(next_index++);
  }
  auto t = Ref<Thread>::make(std::make_unique<WorkerBody>(shared_from_this()), name, true);
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

std::optional<Task> Core::take() {
  std::optional<Task> t;
  // While this worker is counted in `spinning`, submit() leaves the task to
  // it and wakes nobody. It stops counting under the lock when it takes a
  // task (so a task queued after that wakes another worker), and before it
  // sleeps, re-checking the queue after that (submit reads `spinning` after
  // queueing), so no task is left waiting while a worker sleeps.
  bool counted = true;
  spinning.fetch_add(1);
  auto grab = [&] {
    std::lock_guard lock(m);
    if (!queue.empty()) {
      t.emplace(std::move(queue.front()));
      queue.pop_front();
      queued.store(queue.size(), std::memory_order_relaxed);
      if (counted) spinning.fetch_sub(1);
      counted = false;
      return true;
    }
    return shutdown || broken;
  };
  if (queued.load(std::memory_order_relaxed) == 0)
    spin.spin([&] { return queued.load(std::memory_order_relaxed) > 0 || stopping.load(std::memory_order_relaxed); });
  try {
    for (;;) {
      std::uint32_t seen = work.seq.load(std::memory_order_acquire);
      if (grab()) break;
      spinning.fetch_sub(1);
      counted = false;
      if (grab()) break;
      wait_seq(work, seen, Deadline::never());
      spinning.fetch_add(1);
      counted = true;
    }
  } catch (const Error&) {
    // Cancelled: terminate() stops idle workers this way.
  }
  if (counted) spinning.fetch_sub(1);
  return t;
}

void Core::finish(Task& task, Outcome out, const std::string& worker) {
  if (out.state == CompletionState::Failed) out.worker = worker;
  try {
    task.future->complete(out);
    return;
  } catch (const Error& e) {
    // Results that cannot be stored (a process-local object, arena full)
    // fail the task instead of losing it.
    Outcome err = failure(e.kind(), std::string("failed: its result could not be stored: ") + e.what());
    try {
      task.future->complete(err);
      return;
    } catch (const std::exception&) {
    }
  } catch (const std::exception&) {
  }
  log::get().error("pool '{}': a task's outcome could not be stored", opt.name);
}

void Core::work_loop(Thread& self) {
  const std::string worker = self.name();
  WaitContext& ctx = WaitContext::current();
  bool leave;
  {
    std::lock_guard lock(m);
    entered.push_back(&self);  // worker_exited removes it
    leave = terminating;
  }
  if (leave || ctx.cancel_requested()) {
    worker_exited(self, false);
    return;
  }
  std::unique_ptr<TaskRunner> runner;
  try {
    runner = opt.runner();
  } catch (const std::exception& e) {
    break_pool(failure(ErrorKind::BrokenPool, std::string("cannot start a worker: ") + e.what()));
    worker_exited(self, false);
    return;
  }
  Outcome init = runner->init();
  if (init.state != CompletionState::Completed) {
    runner.reset();
    bool stopped = ctx.cancel_requested() || [&] {
      std::lock_guard lock(m);
      return terminating;
    }();
    if (!stopped) break_pool(std::move(init));  // terminate() is not the initializer's failure
    worker_exited(self, false);
    return;
  }
  int done = 0;
  bool retire = false;
  while (!retire && !ctx.cancel_requested()) {
    std::optional<Task> task = take();
    if (!task) break;
    bool go;
    try {
      go = task->future->set_running_or_notify_cancel();
    } catch (const Error&) {
      go = false;  // completed by someone else (set_result on a pool future)
    }
    if (!go) continue;
    Outcome out = runner->run(*task);
    if (ctx.cancel_requested() && out.state == CompletionState::Failed)
      out = failure(ErrorKind::Cancelled, "was cancelled: pool '" + opt.name + "' was terminated");
    finish(*task, std::move(out), worker);
    retire = opt.max_tasks_per_worker > 0 && ++done >= opt.max_tasks_per_worker;
  }
  runner.reset();  // the worker's Lua state closes on its own thread
  worker_exited(self, retire);
}

void Core::worker_exited(Thread& self, bool retire) {
  bool replace;
  Ref<Thread> last;  // dropped after the lock
  {
    std::lock_guard lock(m);
    auto it = std::find_if(threads.begin(), threads.end(), [&](const Ref<Thread>& t) { return t.get() == &self; });
    if (it != threads.end()) {
      last = std::move(*it);
      threads.erase(it);
    }
    std::erase(entered, &self);
    // After shutdown a retiring worker is still replaced while work is
    // queued: shutdown finishes what was submitted.
    replace = retire && !broken && !terminating && (!shutdown || !queue.empty());
    if (!replace) --live;
  }
  if (replace) {
    log::get().debug("pool '{}': replacing worker '{}' after {} tasks", opt.name, self.name(),
                     opt.max_tasks_per_worker);
    try {
      start_worker();
    } catch (const Error& e) {
      break_pool(failure(ErrorKind::BrokenPool, std::string("cannot replace a worker: ") + e.what()));
    }
  }
  exited.notify_all();
}

void Core::break_pool(Outcome cause) {
  std::deque<Task> pending;
  std::string text = "pool '" + opt.name + "' is broken: ";
  text += cause.failure_kind == ErrorKind::RemoteError ? "the initializer raised: " + cause.text : cause.text;
  Outcome out = failure(ErrorKind::BrokenPool, text);
  out.values = std::move(cause.values);  // the initializer's error: the cause
  out.traceback = std::move(cause.traceback);
  {
    std::lock_guard lock(m);
    if (broken) return;
    broken = true;
    broken_outcome = out;
    pending.swap(queue);
    queued.store(0, std::memory_order_relaxed);
    stopping.store(true, std::memory_order_relaxed);
  }
  log::get().error("{}{}{}", text, out.traceback.empty() ? "" : "\n", out.traceback);
  work.notify_all();
  out.text = "failed: " + text;
  for (Task& t : pending) {
    try {
      t.future->complete(out);
    } catch (const std::exception&) {
      t.future->cancel();
    }
  }
}

void Core::stop(bool cancel_futures, bool cancel_running) {
  std::deque<Task> dropped;
  std::vector<Ref<Thread>> running;
  {
    std::lock_guard lock(m);
    shutdown = true;
    if (cancel_futures) dropped.swap(queue);
    queued.store(queue.size(), std::memory_order_relaxed);
    stopping.store(true, std::memory_order_relaxed);
    if (cancel_running) {
      terminating = true;
      for (auto& t : threads)
        if (std::find(entered.begin(), entered.end(), t.get()) != entered.end()) running.push_back(t);
    }
  }
  work.notify_all();
  for (Task& t : dropped) t.future->cancel();
  for (auto& t : running) {
    try {
      t->cancel();
    } catch (const Error&) {
    }
  }
}

bool Core::wait_idle(const Deadline& d) {
  return wait_until(exited, d, [&] {
    std::lock_guard lock(m);
    return live == 0;
  });
}

// ---- ThreadPool --------------------------------------------------------------

Ref<ThreadPool> ThreadPool::create(Options options) {
  if (options.workers < 1) throw Error(ErrorKind::ArgumentError, "a pool needs at least one worker");
  if (options.name.empty()) options.name = "ThreadPool-" + std::to_string(g_pool_counter.fetch_add(1) + 1);
  auto core = std::make_shared<Core>();
  core->opt = std::move(options);
  core->pid = shm::current_pid();
  core->live = core->opt.workers;
  Ref<ThreadPool> pool = Ref<ThreadPool>::adopt(new ThreadPool(core));
  for (int i = 0; i < core->opt.workers; ++i) {
    try {
      core->start_worker();
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
  log::get().debug("pool '{}' started with {} workers", core->opt.name, core->opt.workers);
  return pool;
}

ThreadPool::~ThreadPool() {
  if (core_->pid == shm::current_pid()) core_->stop(false, false);
}

Ref<Future> ThreadPool::submit(std::shared_ptr<const FunctionBlob> fn, Message args) {
  Core& c = *core_;
  if (c.pid != shm::current_pid())
    throw Error(ErrorKind::BrokenPool, "pool '" + c.opt.name + "' has no workers in this forked process");
  Ref<Future> fut = Future::create();
  {
    std::lock_guard lock(c.m);
    if (c.broken) throw Error(ErrorKind::BrokenPool, c.broken_outcome.text);
    if (c.shutdown) throw Error(ErrorKind::InvalidState, "cannot submit to pool '" + c.opt.name + "' after shutdown");
    c.queue.push_back(Task{fut, std::move(fn), std::move(args)});
    c.queued.store(c.queue.size(), std::memory_order_relaxed);
  }
  if (c.spinning.load() < c.queued.load(std::memory_order_relaxed)) c.work.notify_one();
  return fut;
}

void ThreadPool::shutdown(bool wait, bool cancel_futures) {
  if (core_->pid != shm::current_pid()) return;
  core_->stop(cancel_futures, false);
  if (!wait) return;
  if (core_->is_own_worker())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' cannot wait for itself from one of its workers");
  core_->wait_idle(Deadline::never());
}

void ThreadPool::terminate() {
  if (core_->pid != shm::current_pid()) return;
  bool own = core_->is_own_worker();
  core_->stop(true, true);
  if (!own) core_->wait_idle(Deadline::never());
}

bool ThreadPool::join(const Deadline& deadline) {
  if (!is_shutdown())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' is still running: close() or shutdown() it first");
  if (core_->pid != shm::current_pid()) return true;
  if (core_->is_own_worker())
    throw Error(ErrorKind::InvalidState, "pool '" + core_->opt.name + "' cannot wait for itself from one of its workers");
  return core_->wait_idle(deadline);
}

const std::string& ThreadPool::name() const noexcept { return core_->opt.name; }
int ThreadPool::workers() const noexcept { return core_->opt.workers; }

bool ThreadPool::is_shutdown() const {
  std::lock_guard lock(core_->m);
  return core_->shutdown;
}

bool ThreadPool::broken() const {
  std::lock_guard lock(core_->m);
  return core_->broken;
}

Outcome ThreadPool::broken_outcome() const {
  std::lock_guard lock(core_->m);
  return core_->broken_outcome;
}

void ThreadPool::shutdown_all(bool interrupted, double grace) noexcept {
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
      log::get().warn("interrupted while waiting for pools at exit; cancelling their tasks");
    }
  }
  for (auto& c : cores) c->stop(true, true);
  Deadline d = Deadline::after(grace);
  for (auto& c : cores) {
    try {
      if (!c->wait_idle(d)) log::get().warn("pool '{}': tasks still running at exit", c->opt.name);
    } catch (const Error&) {
    }
  }
}

}  // namespace tide::pool
