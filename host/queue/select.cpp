// queue.select (API.md §4) without polling. A futex sleeps on one word, so
// the selector gets a WaitWord of its own, in the arena (any process may
// have to bump it), and registers its offset with every queue it watches.
// put() and close() bump the registered words under the queue's lock; the
// selector unregisters (under the same lock) before it frees its word, so
// no put can touch a freed word. A selector that dies while registered
// leaves a word that is never freed and is harmlessly bumped.
//
// Order: register, then (seq snapshot -> try every queue -> wait). A put
// that the try missed happened after the registration, so it bumps the word.
#include <algorithm>
#include <new>

#include "core/error.hpp"
#include "queue/queue.hpp"
#include "queue/queue_data.hpp"

namespace tide::queue {

class Watch {
 public:
  Watch() {
    void* p = arena().alloc(sizeof(WaitWord));
    word_ = new (p) WaitWord();
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch() {
    for (Queue* q : registered_) remove(q->data());
    word_->~WaitWord();
    arena().free(word_);
  }

  WaitWord& word() noexcept { return *word_; }

  // Throws OSError (arena full); what was registered is undone by ~Watch.
  void add(Queue* q) {
    registered_.reserve(registered_.size() + 1);
    QueueData* d = q->data();
    shm::Arena& a = arena();
    RobustLock lk(d->put_mutex);
    if (d->nwatchers == d->watchers_cap) {
      std::uint32_t ncap = d->watchers_cap ? d->watchers_cap * 2 : 4;
      auto* fresh = static_cast<shm::Offset*>(a.alloc(ncap * sizeof(shm::Offset)));
      if (d->watchers) {
        std::copy_n(a.at<shm::Offset>(d->watchers), d->nwatchers, fresh);
        a.free(a.at<void>(d->watchers));
      }
      d->watchers = a.offset_of(fresh);
      d->watchers_cap = ncap;
    }
    a.at<shm::Offset>(d->watchers)[d->nwatchers++] = a.offset_of(word_);
    registered_.push_back(q);
  }

 private:
  void remove(QueueData* d) noexcept {
    shm::Arena& a = arena();
    shm::Offset mine = a.offset_of(word_);
    RobustLock lk(d->put_mutex);
    auto* w = a.at<shm::Offset>(d->watchers);
    for (std::uint32_t i = 0; i < d->nwatchers; ++i) {
      if (w[i] == mine) {
        w[i] = w[--d->nwatchers];
        return;
      }
    }
  }

  WaitWord* word_;
  std::vector<Queue*> registered_;
};

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
