// The blocking half of a tide.async event loop; knows nothing of Lua. The
// loop's tasks (coroutines, lua/tide/async.lua) await futures, queues,
// threads and descriptors; when no task is ready the loop makes ONE wait
// here, through the one wait path (core/wait.hpp), that ends at the first
// of:
//   - a watched source firing: a future completing, a queue getting an item
//     or room, a thread finishing (the source may be in any process of the
//     tree: futures and queues live in the arena);
//   - a descriptor becoming ready;
//   - the deadline (the loop's earliest timer);
//   - cancellation of the OS thread, or SIGINT on the main thread
//     (Cancelled / Interrupted are thrown, as by every wait).
//
// Sources fire Watchers on the waiter's Beacon (shm/watch.hpp): a futex word
// and the list of which registrations fired, so a wake-up costs the loop
// work for what fired, not for everything it watches. A futex and
// descriptors cannot be slept on together: while the loop waits on both, it
// polls the descriptors plus an eventfd, and a helper thread (the bridge,
// started on first need and kept until the Waiter dies) sleeps on the
// Beacon's word and writes the eventfd when the word moves.
//
// One Waiter belongs to one loop, used by one OS thread at a time, in the
// process that made it: in a fork child every call raises InvalidState (the
// Beacon in the arena is still the parent's) and destruction leaks instead
// of unregistering the parent's watchers.
#pragma once
#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/deadline.hpp"
#include "core/object.hpp"
#include "shm/watch.hpp"

namespace tide {
class Thread;
namespace future {
class Future;
}
namespace queue {
class Queue;
}
}  // namespace tide

namespace tide::async {

class Bridge;

class Waiter {
 public:
  // A registration's name in wait()'s results; never 0.
  using Token = std::uint64_t;

  Waiter();  // OSError when the arena is full
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Registrations (each keeps its source alive until unwatched). A future
  // or a thread fires once, when done; a queue fires after every put
  // (items) or every get (room), and at close, until unwatched. Each fires
  // at once when the source is already ready. OSError when the arena is full.
  Token watch_future(future::Future* f);
  Token watch_queue_items(queue::Queue* q);
  Token watch_queue_room(queue::Queue* q);
  Token watch_thread(Thread* t);
  // Ends a registration; a token that fired but was not yet returned by
  // wait() is never returned. Unknown tokens are ignored.
  void unwatch(Token t) noexcept;
  std::size_t watching() const noexcept { return regs_.size(); }

  // Appends to `fired` the tokens of the registrations that fired since the
  // last call (each once) and fills each `fds[i].revents`; returns how many
  // descriptors are ready. Blocks until at least one token or descriptor is
  // ready, or the deadline passes (returns at once when something is ready
  // already, or the deadline has passed). Throws Cancelled / Interrupted.
  int wait(const Deadline& d, std::span<pollfd> fds, std::vector<Token>& fired);

 private:
  enum class Kind : std::uint8_t { Future, QueueItems, QueueRoom, Thread };
  struct Registration {
    Ref<Object> source;
    Kind kind;
    shm::Watcher* watcher;
  };

  Token add(Ref<Object> source, Kind kind);
  void remove_from_source(const Registration& r) noexcept;
  void take(std::vector<Token>& fired);
  int wait_both(const Deadline& d, std::uint32_t seen, std::span<pollfd> fds);

  shm::Beacon* beacon_;
  pid_t owner_;  // a fork child's copy touches nothing (see waiter.cpp)
  std::unordered_map<Token, Registration> regs_;
  // Unwatched while still on the Beacon's stack: freed at the next take.
  std::unordered_set<shm::Watcher*> retired_;
  std::unique_ptr<Bridge> bridge_;
  std::vector<pollfd> polled_;  // fds plus the bridge's eventfd
};

}  // namespace tide::async
