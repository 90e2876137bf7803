// queue.select (API.md §4) without polling. A futex sleeps on one word, so
// the selector makes a Beacon of its own in the arena (any process may have
// to bump it, shm/watch.hpp) and registers one Watcher with every queue it
// watches. put() and close() fire it under the queue's lock; the selector
// unregisters (under the same lock) before it frees them, so no put can
// touch freed memory. A selector that dies while registered leaves a
// Watcher that is never freed and is harmlessly fired. The selector never
// takes the Beacon's stack: it looks at the queues after every bump.
//
// Order: register, then (seq snapshot -> try every queue -> wait). A put
// that the try missed happened after the registration, so it bumps the word.
#include <new>

#include "core/error.hpp"
#include "queue/queue.hpp"
#include "queue/queue_data.hpp"

namespace tide::queue {

namespace {

class Watch {
 public:
  Watch() : beacon_(shm::new_beacon()) {
    try {
      watcher_ = shm::new_watcher(beacon_);
    } catch (...) {
      shm::free_beacon(beacon_);
      throw;
    }
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch() {
    for (Queue* q : registered_) q->unwatch_items(watcher_);
    shm::free_watcher(watcher_);
    shm::free_beacon(beacon_);
  }

  WaitWord& word() noexcept { return beacon_->word; }

  // Throws OSError (arena full); what was registered is undone by ~Watch.
  void add(Queue* q) {
    registered_.reserve(registered_.size() + 1);
    q->watch_items(watcher_);
    registered_.push_back(q);
  }

 private:
  shm::Beacon* beacon_;
  shm::Watcher* watcher_ = nullptr;
  std::vector<Queue*> registered_;
};

}  // namespace

std::size_t select(std::span<Queue* const> queues, const Deadline& d, Item& out) {
  if (queues.empty()) throw Error(ErrorKind::ArgumentError, "select needs at least one queue");
  std::size_t found = queues.size();
  auto poll = [&] {
    bool all_closed = true;
    for (std::size_t i = 0; i < queues.size(); ++i) {
      switch (queues[i]->try_get(out)) {
        case Queue::Poll::Got: found = i; return true;
        case Queue::Poll::Empty: all_closed = false; break;
        case Queue::Poll::Closed: break;
      }
    }
    if (all_closed) throw Error(ErrorKind::Closed, "select: every queue is closed and drained");
    return false;
  };
  if (poll()) return found;
  if (d.passed()) throw Error(ErrorKind::Timeout, "select timed out");
  Watch watch;
  for (Queue* q : queues) watch.add(q);
  if (!wait_until(watch.word(), d, poll)) throw Error(ErrorKind::Timeout, "select timed out");
  return found;
}

}  // namespace tide::queue
