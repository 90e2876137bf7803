#include "thread/thread.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "shm/owner.hpp"
#include "thread/os_threads.hpp"

namespace tide {

namespace {

pid_t gettid_() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// Every started, unfinished Thread. Lock order: Registry::m before Thread::m_.
struct Registry {
  std::mutex m;
  std::vector<Ref<Thread>> alive;
  int non_daemon = 0;
  WaitWord changed;  // bumped whenever a thread finishes
  Registry* inherited = nullptr;  // renew_after_fork
};

Registry* g_registry = new Registry;  // outlives statics: workers may finish late
thread_local Thread* t_current = nullptr;

void fork_prepare() { g_registry->m.lock(); }
void fork_parent() { g_registry->m.unlock(); }

// In a fork child only the forking thread exists. The others' Thread
// objects end as WorkerDied, so joining them there returns at once.
void fork_child() {
  Registry* old = renew_after_fork(g_registry);  // the old mutex is held by the forking thread
  for (auto& t : old->alive) {
    if (t.get() == t_current) {
      g_registry->alive.push_back(t);
      if (!t->daemon()) ++g_registry->non_daemon;
      continue;
    }
    t->completion().reset_after_fork();
    Outcome o;
    o.state = CompletionState::Failed;
    o.failure_kind = ErrorKind::WorkerDied;
    o.text = "does not exist in this forked process";
    t->completion().finish(std::move(o));
    t->mark_error_observed();
  }
}

AtFork g_at_fork{fork_prepare, fork_parent, fork_child};

Registry& registry() { return *g_registry; }

std::atomic<int> g_counter{0};
thread_local Ref<Thread> t_dummy;

void unregister(Thread* t, bool daemon) {
  Registry& r = registry();
  Ref<Thread> last;  // released after the lock
  {
    std::lock_guard lock(r.m);
    for (auto it = r.alive.begin(); it != r.alive.end(); ++it) {
      if (it->get() == t) {
        last = std::move(*it);
        r.alive.erase(it);
        if (!daemon) --r.non_daemon;
        break;
      }
    }
  }
  r.changed.notify_all();
}

}  // namespace

std::string Thread::next_name(const char* prefix) {
  return std::string(prefix) + "-" + std::to_string(g_counter.fetch_add(1) + 1);
}

Thread::Thread(std::unique_ptr<ThreadBody> body, std::string name, bool daemon, double delay)
    : name_(std::move(name)), daemon_(daemon), body_(std::move(body)), delay_(delay) {}

Thread::Thread(Adopted, std::string name) : name_(std::move(name)), started_(true), adopted_(true) {
  ident_ = gettid_();
  completion_.start_running();
}

Thread::~Thread() {
  if (completion_.state() == CompletionState::Failed && !error_observed_) {
    const Outcome& o = completion_.outcome();
    log::error("unhandled error in thread '{}': {}\n{}", name_, o.text, o.traceback);
  }
}

void Thread::start() {
  bool daemon;
  {
    std::lock_guard lock(m_);
    if (adopted_) throw Error(ErrorKind::InvalidState, "'" + name_ + "' is already running");
    if (started_) throw Error(ErrorKind::InvalidState, "thread '" + name_ + "' was already started");
    started_ = true;
    daemon = daemon_;
  }
  Registry& r = registry();
  {
    std::lock_guard lock(r.m);
    r.alive.push_back(Ref<Thread>::share(this));
    if (!daemon) ++r.non_daemon;
  }
  try {
    os_threads::launch([self = Ref<Thread>::share(this)] { self->run(); });
  } catch (const Error& e) {
    completion_.finish(Outcome{CompletionState::Failed, {}, e.what(), {}});
    error_observed_ = true;
    unregister(this, daemon);
    throw;
  }
}

void Thread::run() noexcept {
  WaitContext& ctx = WaitContext::current();
  ctx.clear_cancel();
  bool daemon;
  {
    std::lock_guard lock(m_);
    ctx_ = &ctx;
    os_thread_ = pthread_self();
    ident_ = gettid_();
    daemon = daemon_;
    if (cancel_requested_) ctx.request_cancel();
  }
  t_current = this;
  log::set_thread_name(name());
  log::debug("thread started (tid {}{})", ident_, daemon ? ", daemon" : "");

  Outcome out;
  out.state = CompletionState::Cancelled;
  if (completion_.start_running()) {
    bool go = true;
    if (is_timer()) {
      try {
        wait_until(timer_word_, Deadline::after(delay_), [&] { return ctx.cancel_requested(); });
      } catch (const Error&) {
      }
      go = !ctx.cancel_requested();
    }
    if (go && !ctx.cancel_requested()) out = body_->run(*this);
  }
  bool cancelled;
  {
    std::lock_guard lock(m_);
    ctx_ = nullptr;
    cancelled = cancel_requested_;
  }
  ctx.clear_cancel();
  // A thread that was asked to stop and did not return normally counts as
  // cancelled, whatever error the cancellation surfaced as.
  if (cancelled && out.state == CompletionState::Failed) out = Outcome{CompletionState::Cancelled, {}, {}, {}};
  log::debug("thread finished: {}",
                   out.state == CompletionState::Completed ? "completed"
                   : out.state == CompletionState::Failed  ? "failed"
                                                           : "cancelled");
  t_current = nullptr;
  shm::end_thread_token();  // RLocks it still holds are now abandoned
  log::set_thread_name("idle");
  // Leave the registry first, so whoever join() wakes no longer sees this
  // thread in enumerate(); the job's own reference keeps it alive.
  unregister(this, daemon);
  completion_.finish(std::move(out));
}

void Thread::cancel() {
  std::lock_guard lock(m_);
  if (adopted_) throw Error(ErrorKind::InvalidState, "cannot cancel '" + name_ + "'");
  cancel_requested_ = true;
  if (!started_) completion_.cancel_pending();
  timer_word_.notify_all();
  if (ctx_) {
    ctx_->request_cancel();
    pthread_kill(os_thread_, os_threads::kCancelSignal);
  }
}

bool Thread::started() const {
  std::lock_guard lock(m_);
  return started_;
}

bool Thread::is_alive() const { return started() && !completion_.done(); }

const char* Thread::status_name() const {
  switch (completion_.state()) {
    case CompletionState::Pending:
    case CompletionState::Running: return started() ? "running" : "new";
    case CompletionState::Completed: return "completed";
    case CompletionState::Failed: return "failed";
    case CompletionState::Cancelled: return "cancelled";
  }
  return "?";
}

std::string Thread::name() const {
  std::lock_guard lock(m_);
  return name_;
}

void Thread::set_name(std::string name) {
  std::lock_guard lock(m_);
  name_ = std::move(name);
}

bool Thread::daemon() const {
  std::lock_guard lock(m_);
  return daemon_;
}

void Thread::set_daemon(bool daemon) {
  std::lock_guard lock(m_);
  if (started_) throw Error(ErrorKind::InvalidState, "cannot set daemon status of an active thread");
  daemon_ = daemon;
}

pid_t Thread::ident() const {
  std::lock_guard lock(m_);
  return ident_;
}

bool Thread::is_main() { return gettid_() == getpid(); }

namespace {
ForkSafeMutex g_main_mutex;  // a fork child finds it free (core/fork_safe.hpp)
}  // namespace

Ref<Thread> Thread::main() {
  // Re-created after fork: the child's main thread is whichever thread forked.
  static Ref<Thread> main_thread;
  static pid_t owner = 0;
  std::lock_guard lock(g_main_mutex);
  if (!main_thread || owner != getpid()) {
    main_thread = Ref<Thread>::adopt(new Thread(Adopted{}, "MainThread"));
    owner = getpid();
  }
  return main_thread;
}

Ref<Thread> Thread::current() {
  if (t_current) return Ref<Thread>::share(t_current);
  if (is_main()) return main();
  if (!t_dummy) t_dummy = Ref<Thread>::adopt(new Thread(Adopted{}, next_name("Dummy")));
  return t_dummy;
}

std::vector<Ref<Thread>> Thread::enumerate() {
  std::vector<Ref<Thread>> out;
  out.push_back(main());
  Registry& r = registry();
  std::lock_guard lock(r.m);
  for (auto& t : r.alive) out.push_back(t);
  return out;
}

bool Thread::shutdown_all(bool interrupted, double grace) {
  Registry& r = registry();
  auto cancel_matching = [&](bool daemons_only) {
    std::vector<Ref<Thread>> snapshot;
    {
      std::lock_guard lock(r.m);
      snapshot = r.alive;
    }
    for (auto& t : snapshot)
      if (!daemons_only || t->daemon()) t->cancel();
  };
  cancel_matching(!interrupted);
  if (!interrupted) {
    try {
      wait_until(r.changed, Deadline::never(), [&] {
        std::lock_guard lock(r.m);
        return r.non_daemon == 0;
      });
    } catch (const Error&) {
      log::warn("interrupted while waiting for threads at exit; cancelling them");
      cancel_matching(false);
    }
  }
  Deadline d = Deadline::after(grace);
  bool all_done = false;
  for (;;) {
    try {
      all_done = wait_until(r.changed, d, [&] {
        std::lock_guard lock(r.m);
        return r.alive.empty();
      });
      break;
    } catch (const Error&) {
      cancel_matching(false);  // a second Ctrl-C: stop everything
    }
  }
  if (all_done) os_threads::shutdown();
  return all_done;
}

}  // namespace tide
