#include "thread/os_threads.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/error.hpp"
#include "core/fork_safe.hpp"

namespace tide::os_threads {

namespace {

constexpr auto kLinger = std::chrono::seconds(5);

struct Worker {
  std::thread thread;
};

// Lock order: only `m`. Jobs run with it released.
struct Cache {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;
  std::list<Worker> workers;
  int idle = 0;
  bool stopping = false;
  Cache* inherited = nullptr;  // renew_after_fork
};

Cache* g_cache = new Cache;  // never destroyed: workers may outlive statics

// A fork child has none of the parent's OS threads and maybe a mutex held
// by one of them: it starts an empty cache (the old one is left as is).
void after_fork_child() { renew_after_fork(g_cache); }
AtFork g_at_fork{nullptr, nullptr, after_fork_child};

Cache& cache() { return *g_cache; }

void worker_loop(Worker* self) {
  const pid_t owner = getpid();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kCancelSignal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  Cache& c = cache();
  std::unique_lock lock(c.m);
  for (;;) {
    ++c.idle;
    bool got = c.cv.wait_for(lock, kLinger, [&] { return !c.jobs.empty() || c.stopping; });
    --c.idle;
    if (!got || c.jobs.empty()) break;  // lingered long enough, or stopping
    auto job = std::move(c.jobs.front());
    c.jobs.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // destroy captures before taking the lock again
    if (getpid() != owner) {
      // The job forked and this is the child, running on a copy of this
      // thread: the cache (and its mutex) belong to the parent. The child's
      // work is done, as a Python child whose forking thread returned.
      std::fflush(nullptr);
      _exit(0);
    }
    lock.lock();
  }
  // Lingered long enough: nobody will join this thread, so it detaches
  // itself (an exited, unjoined thread is a leak to ThreadSanitizer, also
  // in every later fork child). When stopping, shutdown() joins it.
  if (!c.stopping) {
    for (auto it = c.workers.begin(); it != c.workers.end(); ++it) {
      if (&*it == self) {
        it->thread.detach();
        c.workers.erase(it);  // `self` is gone from here on
        break;
      }
    }
  }
}

}  // namespace

void launch(std::function<void()> job) {
  Cache& c = cache();
  std::lock_guard lock(c.m);
  c.jobs.push_back(std::move(job));
  if (c.idle >= static_cast<int>(c.jobs.size())) {
    c.cv.notify_one();
    return;
  }
  Worker& w = c.workers.emplace_back();
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    w.thread = std::thread(worker_loop, &w);
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    c.workers.pop_back();
    c.jobs.pop_back();
    throw Error(ErrorKind::OSError, std::string("cannot start a thread: ") + e.what(),
                e.code().value());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void shutdown() noexcept {
  Cache& c = cache();
  std::list<Worker> workers;
  {
    std::lock_guard lock(c.m);
    c.stopping = true;
    c.cv.notify_all();
    workers.swap(c.workers);
  }
  for (auto& w : workers) w.thread.join();
  std::lock_guard lock(c.m);
  c.stopping = false;
}

}  // namespace tide::os_threads
