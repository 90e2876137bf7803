// Process-global mutexes that a fork child can still take. Every
// ForkSafe<M> registers itself at construction; fork() in any thread then
// takes all of them first (pthread_atfork prepare, in registration order)
// and releases them in the parent and in the child. So a child never
// inherits one held by a thread that does not exist there, and it finds
// the data they guard consistent. (Re-initialising a held mutex in the
// child instead leaves ThreadSanitizer sure it is held forever.)
//
// Rules for what a ForkSafe mutex guards, which make the prepare step safe:
// short sections that never fork and never take another ForkSafe mutex or
// wait for a thread that might. Logging inside them is fine (the log sink
// takes no lock). Declare them at namespace scope, so they register before
// main() (or while tide.so loads), before any thread could hold one.
#pragma once
#include <pthread.h>

#include <atomic>
#include <mutex>

namespace tide {

namespace fork_safe {

struct Node {
  void* mutex;
  void (*lock)(void*) noexcept;
  void (*unlock)(void*) noexcept;
  Node* next = nullptr;
};

// Adds `n` (static storage) to the list fork() takes; installs the
// pthread_atfork handlers on first use. Lock-free, thread-safe.
void add(Node* n) noexcept;

// Installs the handlers that take the list (once; any thread).
void install() noexcept;

}  // namespace fork_safe

// In a fork child's handler: replaces a process-global record (whose mutex
// a thread the child lacks may hold) with a fresh one, and returns the old.
// The old stays reachable through the fresh one's `inherited` (a T* member
// T must have), so leak checkers at the child's exit do not count it.
template <class T>
T* renew_after_fork(T*& global) {
  T* old = global;
  global = new T;
  global->inherited = old;
  return old;
}

// A module's own fork handlers (pthread_atfork's three), registered while
// the program starts (or tide.so loads): declare one at namespace scope,
// never register on first use. glibc runs in a fork child only the handlers
// that existed when that fork began, so one registered while another thread
// forks misses that child, which then inherits what it should have reset:
// a pool worker hung at exit on the process registry's mutex, taken by the
// thread that had just registered the handler. Prepare runs before the
// ForkSafe mutexes are taken, parent and child after they are released.
class AtFork {
 public:
  AtFork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept {
    fork_safe::install();  // first, so its handlers run innermost
    pthread_atfork(prepare, parent, child);
  }
  AtFork(const AtFork&) = delete;
  AtFork& operator=(const AtFork&) = delete;
};

template <class M>
class ForkSafe : public M {
 public:
  ForkSafe() noexcept { fork_safe::add(&node_); }
  ForkSafe(const ForkSafe&) = delete;
  ForkSafe& operator=(const ForkSafe&) = delete;

 private:
  static void lock_fn(void* m) noexcept { static_cast<M*>(m)->lock(); }
  static void unlock_fn(void* m) noexcept { static_cast<M*>(m)->unlock(); }
  fork_safe::Node node_{static_cast<M*>(this), lock_fn, unlock_fn};
};

// Only plain mutexes: the child's thread has another thread id than the
// forking one, and glibc's rwlock takes an unlock by another thread for a
// reader's (the rwlock then stays write-locked for ever).
using ForkSafeMutex = ForkSafe<std::mutex>;

}  // namespace tide
