#include "async/waiter.hpp"

#include <unistd.h>

#include "async/bridge.hpp"
#include "core/error.hpp"
#include "core/wait.hpp"
#include "future/future.hpp"
#include "queue/queue.hpp"
#include "thread/thread.hpp"

namespace tide::async {

namespace {

// A loop's Beacon lives in the arena, which a fork child shares: a loop
// copied into a child must not take (or unwatch) the parent's registrations.
void check_owner(pid_t owner) {
  if (getpid() != owner)
    throw Error(ErrorKind::InvalidState, "an event loop cannot be used in a fork child of the process that made it");
}

}  // namespace

Waiter::Waiter() : beacon_(shm::new_beacon()), owner_(getpid()) {}

Waiter::~Waiter() {
  if (getpid() != owner_) {  // a fork child's copy: everything is the parent's
    if (bridge_) Bridge::abandon(bridge_.release());
    return;
  }
  for (auto& [token, r] : regs_) {
    remove_from_source(r);
    shm::free_watcher(r.watcher);
  }
  // Retired watchers may still be on the stack; nothing fires them any more.
  for (shm::Watcher* w : retired_) shm::free_watcher(w);
  bridge_.reset();
  shm::free_beacon(beacon_);
}

// The registration is recorded first (the map may throw), then made with
// the source (which may throw too: then it is forgotten again), so a
// watcher is never registered with a source without being known here.
Waiter::Token Waiter::add(Ref<Object> source, Kind kind) {
  check_owner(owner_);
  shm::Watcher* w = shm::new_watcher(beacon_);
  Token token = shm::Arena::get().offset_of(w);
  Object* s = source.get();
  try {
    regs_.emplace(token, Registration{std::move(source), kind, w});
  } catch (...) {
    shm::free_watcher(w);
    throw;
  }
  try {
    switch (kind) {
      case Kind::Future: static_cast<future::Future*>(s)->watch(w); break;
      case Kind::QueueItems: static_cast<queue::Queue*>(s)->watch_items(w); break;
      case Kind::QueueRoom: static_cast<queue::Queue*>(s)->watch_room(w); break;
      case Kind::Thread: static_cast<Thread*>(s)->completion().watch(w); break;
    }
  } catch (...) {
    regs_.erase(token);
    shm::free_watcher(w);
    throw;
  }
  return token;
}

Waiter::Token Waiter::watch_future(future::Future* f) { return add(Ref<Object>::share(f), Kind::Future); }
Waiter::Token Waiter::watch_queue_items(queue::Queue* q) { return add(Ref<Object>::share(q), Kind::QueueItems); }
Waiter::Token Waiter::watch_queue_room(queue::Queue* q) { return add(Ref<Object>::share(q), Kind::QueueRoom); }
Waiter::Token Waiter::watch_thread(Thread* t) { return add(Ref<Object>::share(t), Kind::Thread); }

void Waiter::remove_from_source(const Registration& r) noexcept {
  Object* s = r.source.get();
  switch (r.kind) {
    case Kind::Future: static_cast<future::Future*>(s)->unwatch(r.watcher); break;
    case Kind::QueueItems: static_cast<queue::Queue*>(s)->unwatch_items(r.watcher); break;
    case Kind::QueueRoom: static_cast<queue::Queue*>(s)->unwatch_room(r.watcher); break;
    case Kind::Thread: static_cast<Thread*>(s)->completion().unwatch(r.watcher); break;
  }
}

void Waiter::unwatch(Token t) noexcept {
  if (getpid() != owner_) return;
  auto it = regs_.find(t);
  if (it == regs_.end()) return;
  remove_from_source(it->second);  // no fire is in progress after this
  shm::Watcher* w = it->second.watcher;
  regs_.erase(it);
  if (w->queued.load(std::memory_order_acquire)) {
    try {
      retired_.insert(w);  // on the stack: freed at the next take
    } catch (...) {        // out of memory: leak it rather than free it under the stack
    }
  } else {
    shm::free_watcher(w);
  }
}

void Waiter::take(std::vector<Token>& fired) {
  shm::take_fired(*beacon_, [&](shm::Watcher* w) {
    if (!retired_.empty()) {
      if (auto r = retired_.find(w); r != retired_.end()) {
        retired_.erase(r);
        shm::free_watcher(w);
        return;
      }
    }
    fired.push_back(shm::Arena::get().offset_of(w));
  });
}

int Waiter::wait(const Deadline& d, std::span<pollfd> fds, std::vector<Token>& fired) {
  check_owner(owner_);
  std::size_t before = fired.size();
  std::uint32_t seen = beacon_->word.seq.load(std::memory_order_acquire);
  take(fired);
  bool have = fired.size() > before;
  if (fds.empty()) {
    if (have || d.passed()) {
      WaitContext::current().check();  // a busy loop still notices Ctrl-C and cancellation
      return 0;
    }
    wait_seq(beacon_->word, seen, d);
    take(fired);
    return 0;
  }
  int ready;
  if (have || regs_.empty()) {
    // Nothing to sleep on but the descriptors (or no sleep at all: poll
    // once, with the deadline passed).
    ready = wait_fds(fds.data(), static_cast<int>(fds.size()), have ? Deadline::after(0) : d);
  } else {
    ready = wait_both(d, seen, fds);
  }
  take(fired);
  return ready;
}

// Descriptors and the Beacon's word at once, through the bridge.
int Waiter::wait_both(const Deadline& d, std::uint32_t seen, std::span<pollfd> fds) {
  if (bridge_ && !bridge_->made_here()) Bridge::abandon(bridge_.release());
  if (!bridge_) bridge_ = std::make_unique<Bridge>(beacon_->word);
  polled_.assign(fds.begin(), fds.end());
  polled_.push_back(pollfd{bridge_->fd(), POLLIN, 0});
  bridge_->arm(seen);
  int got;
  try {
    got = wait_fds(polled_.data(), static_cast<int>(polled_.size()), d);
  } catch (...) {
    bridge_->disarm();
    throw;
  }
  bridge_->disarm();
  int ready = 0;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    fds[i].revents = polled_[i].revents;
    if (fds[i].revents) ++ready;
  }
  (void)got;
  return ready;
}

}  // namespace tide::async
