#include "process/launcher.hpp"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <exception>
#include <mutex>

#include "core/error.hpp"
#include "core/fork_safe.hpp"

namespace tide::process {

namespace {

struct Job {
  const std::function<pid_t()>* launch = nullptr;
  pid_t result = 0;
  std::exception_ptr error;
  bool done = false;
};

struct Launcher {
  std::mutex callers;  // one job at a time
  std::mutex m;        // guards everything below
  std::condition_variable cv;
  Job* job = nullptr;
  bool running = false;
  Launcher* inherited = nullptr;  // renew_after_fork
};

Launcher* g_launcher = new Launcher;  // never destroyed: the thread outlives statics

// A fork child has no launcher thread (unless it is the launcher's own
// fork, which never returns to the loop): it starts one on demand. The
// parent's caller held its mutexes; the child gets fresh ones.
void after_fork_child() { renew_after_fork(g_launcher); }
AtFork g_at_fork{nullptr, nullptr, after_fork_child};

void* loop(void* arg) {
  auto* l = static_cast<Launcher*>(arg);
  std::unique_lock lock(l->m);
  for (;;) {
    l->cv.wait(lock, [&] { return l->job && !l->job->done; });
    Job* j = l->job;
    lock.unlock();
    try {
      j->result = (*j->launch)();
    } catch (...) {
      j->error = std::current_exception();
    }
    lock.lock();
    j->done = true;
    l->cv.notify_all();
  }
  return nullptr;
}

void start_locked(Launcher* l) {
  if (l->running) return;
  // Every signal blocked: process signals go to the main thread, and a
  // fork child unblocks its own (prepare_child).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int err = pthread_create(&t, nullptr, loop, l);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err != 0) throw_os_error("pthread_create(launcher)", err);
  pthread_detach(t);
  l->running = true;
}

}  // namespace

pid_t on_launcher(const std::function<pid_t()>& launch) {
  Launcher* l = g_launcher;
  std::lock_guard one(l->callers);
  std::unique_lock lock(l->m);
  start_locked(l);
  Job j;
  j.launch = &launch;
  l->job = &j;
  l->cv.notify_all();
  l->cv.wait(lock, [&] { return j.done; });
  l->job = nullptr;
  if (j.error) std::rethrow_exception(j.error);
  return j.result;
}

}  // namespace tide::process
