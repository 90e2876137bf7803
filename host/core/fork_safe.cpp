#include "core/fork_safe.hpp"

#include <pthread.h>

#include "core/asan_fork.hpp"

namespace tide::fork_safe {

namespace {

// Newest first; constant-initialised, so registrations from any static
// initialiser may come first. Nodes are never removed.
std::atomic<Node*> g_head{nullptr};
std::atomic<bool> g_installed{false};

// The prepare order is the reverse of the list's (oldest first), and the
// release order its reverse: any fixed order works, as no section under one
// of these mutexes takes another.
void lock_all(Node* n) noexcept {
  if (!n) return;
  lock_all(n->next);
  n->lock(n->mutex);
}

// What this thread's fork locked: release unlocks exactly that, even if a
// node was added meanwhile (the child runs the copy of the forking thread).
thread_local Node* t_locked = nullptr;

// The sanitizer's allocator last: a section under one of ours may malloc.
void prepare() noexcept {
  t_locked = g_head.load(std::memory_order_acquire);
  lock_all(t_locked);
  lock_sanitizer();
}

void release() noexcept {
  unlock_sanitizer();
  for (Node* n = t_locked; n; n = n->next) n->unlock(n->mutex);
  t_locked = nullptr;
}

}  // namespace

void install() noexcept {
  if (g_installed.exchange(true, std::memory_order_acq_rel)) return;
  find_sanitizer_locks();
  pthread_atfork(prepare, release, release);
}

void add(Node* n) noexcept {
  install();
  Node* head = g_head.load(std::memory_order_relaxed);
  do {
    n->next = head;
  } while (!g_head.compare_exchange_weak(head, n, std::memory_order_release, std::memory_order_relaxed));
}

}  // namespace tide::fork_safe
