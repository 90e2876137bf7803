// Readiness registration: "when this source may have become ready, bump my
// word and tell me which registration it was". The one way a waiter that
// watches many sources at once learns about them (queue.select, and the
// tide.async event loop, which watches futures, queues and threads while its
// tasks await them).
//
// A waiter owns a Beacon: a WaitWord it sleeps on (core/wait.hpp) and a
// stack of the Watchers that fired since it last looked. Each registration
// is a Watcher; a source (a queue, a future, a thread's completion) keeps the
// offsets of its Watchers in a WatchSet, guarded by a lock of the source's
// own, and fires them after every change a waiter may care about (an item
// put, a future completed). Firing a Watcher pushes it on its Beacon's stack
// (once: a Watcher already there is not pushed again) and bumps the word; the
// waiter takes the whole stack and so knows which registrations to look at
// without checking every one.
//
// Beacons and Watchers live in the arena and hold only offsets and atomics,
// so a source in any process of the tree can fire a waiter's Watcher. The
// stack's only pop takes everything (an exchange), so pushing by
// compare-exchange is free of ABA.
//
// Lifetimes (the waiter's side): a Watcher may be freed once it is out of
// its source's WatchSet (removed under the source's lock, so no fire is in
// progress) and not on the Beacon's stack (queued == 0); one still queued is
// freed after the waiter's next take. A process that dies while firing (in
// the middle of a push) may leave one Watcher unreachable: it is never freed.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/wait.hpp"
#include "shm/arena.hpp"

namespace tide::shm {

struct Beacon {
  WaitWord word;
  std::atomic<Offset> fired{0};  // stack of Watchers (through Watcher::next)
};

struct Watcher {
  Offset beacon = 0;
  std::atomic<Offset> next{0};          // link on the Beacon's stack
  std::atomic<std::uint32_t> queued{0};  // 1 from the push until the waiter takes it
  std::uint32_t reserved = 0;
};

// A Beacon or a Watcher in the arena (zero-filled, constructed). Throw
// OSError when the arena is full.
Beacon* new_beacon();
Watcher* new_watcher(Beacon* b);
void free_beacon(Beacon* b) noexcept;
void free_watcher(Watcher* w) noexcept;

// Pushes `w` on its Beacon's stack unless it is there already, and bumps
// the Beacon's word. Called by sources, with the lock guarding their
// WatchSet held.
void fire(Watcher& w) noexcept;

// Takes every Watcher fired since the last take, oldest first, clearing
// `queued` before each is handed to `each(Watcher*)` (a fire after that
// queues it again: no fire is ever lost). Returns how many.
template <class F>
std::size_t take_fired(Beacon& b, F&& each) {
  Arena& a = Arena::get();
  Offset head = b.fired.exchange(0, std::memory_order_acq_rel);
  // The stack is newest first: reverse it, so registrations are seen in
  // the order they fired.
  Offset prev = 0;
  while (head) {
    Watcher* w = a.at<Watcher>(head);
    Offset next = w->next.load(std::memory_order_relaxed);
    w->next.store(prev, std::memory_order_relaxed);
    prev = head;
    head = next;
  }
  std::size_t n = 0;
  while (prev) {
    Watcher* w = a.at<Watcher>(prev);
    prev = w->next.load(std::memory_order_relaxed);
    w->queued.store(0, std::memory_order_release);
    each(w);
    ++n;
  }
  return n;
}

// A source's registrations: an array of Watcher offsets in the arena.
// Every member is guarded by the lock the source names (not thread-safe by
// itself); standard layout, no pointers.
struct WatchSet {
  std::uint32_t count = 0;
  std::uint32_t capacity = 0;
  Offset items = 0;  // Offset[capacity]

  // Throws OSError (arena full); nothing changes then.
  void add(const Watcher* w);
  // False when `w` was not there.
  bool remove(const Watcher* w) noexcept;
  void fire_all() noexcept;
  // Frees the array (the source is being destroyed).
  void release() noexcept;
};

}  // namespace tide::shm
