// Queues (API.md §4): Queue (FIFO), LifoQueue, PriorityQueue and
// SimpleQueue, one shared-object type with a kind. The data lives in the
// shared arena from the start, so the same queue works between threads and
// between processes (fork children inherit the arena; a stored reference
// reaches it from anywhere). Items are Items (item.hpp): codec bytes kept
// inline in the ring slot or in the arena.
//
// Locking: shm::RobustMutex in the arena (one CAS to take, one store to
// free; a process that dies holding one leaves the queue usable), held
// only for a few stores per call: items are encoded before and decoded
// after, outside them. A FIFO (Queue,
// SimpleQueue) has one lock per end, so a producer and a consumer do not
// contend, and each end reads the other's index only when its cached copy
// says full or empty; a LifoQueue or PriorityQueue has one lock. Blocking
// goes through the one wait mechanism (core/wait.hpp): after a short spin,
// wait_until on the not_empty / not_full / all_done words, so every blocking
// call has a deadline and is cancellable and SIGINT-interruptible; waiters
// announce themselves, so a put with nobody waiting costs no shared write.
//
// Watching (shm/watch.hpp): a selector or an event loop registers a
// Watcher with each queue it waits on; a put (or close) fires the item
// watchers under the queue's lock, a get of a bounded queue (or close) the
// room watchers, and the waiter unregisters before freeing its Watcher.
// Queues nobody watches pay nothing. See select().
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/deadline.hpp"
#include "queue/item.hpp"
#include "shm/shared.hpp"
#include "shm/watch.hpp"

namespace tide::queue {

enum class Kind : std::uint32_t { Fifo = 0, Lifo = 1, Priority = 2, Simple = 3 };

struct QueueData;

class Queue final : public shm::SharedObject {
 public:
  // Arrays, not pointers to literals: each name is one object, so its
  // address is the class tag of a handle (luabase/handles.hpp) in every
  // translation unit.
  static constexpr char kFifoName[] = "tide.Queue", kLifoName[] = "tide.LifoQueue",
                        kPriorityName[] = "tide.PriorityQueue", kSimpleName[] = "tide.SimpleQueue";
  static constexpr const char* kTypeNames[4] = {kFifoName, kLifoName, kPriorityName, kSimpleName};

  // maxsize 0 = unbounded; negative is ArgumentError. A SimpleQueue is
  // always unbounded. Throws OSError if the arena is full.
  static Ref<Queue> create(Kind kind, std::int64_t maxsize = 0);
  // Adopts one shared reference to `h` (a queue's block in the arena).
  explicit Queue(shm::SharedHeader* h) : SharedObject(h) {}

  const char* type_name() const noexcept override;
  Kind kind() const noexcept;
  std::int64_t maxsize() const noexcept;

  // Waits for room while the queue is full; raises Full at the deadline and
  // Closed once the queue is closed. A PriorityQueue item needs its key
  // set; an item that cannot be ordered against the queue's raises
  // ArgumentError. On any failure the item is left to the caller.
  void put(Item&& item, const Deadline& d);
  // The same for a slot: the queue's once this returns, still the
  // caller's if it throws. `key`: a PriorityQueue's ordering key. The
  // binding puts a small scalar as an inline slot it built, with no Item (W2).
  void put_slot(const Slot& slot, std::string_view key, const Deadline& d);
  // Puts the batch's items in order, waiting for room as needed. Returns
  // how many were put: all of them, or fewer when the deadline passed first
  // (the rest stay in the batch). Raises as put does (after any that fit).
  std::size_t put_many(ItemBatch& batch, const Deadline& d);

  // Waits for an item; raises Empty at the deadline, and Closed once the
  // queue is closed and drained.
  Item get(const Deadline& d);
  // Waits (until the deadline) for the first item only, then moves up to
  // `max` that are there into `out`. Raises as get does when none arrived.
  void get_many(ItemBatch& out, std::size_t max, const Deadline& d);

  enum class Poll { Got, Empty, Closed };
  // Never blocks. Closed means closed and drained.
  Poll try_get(Item& out);

  std::size_t qsize() const noexcept;
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept;

  // Python's task accounting: each put adds an unfinished task, task_done
  // finishes one (InvalidState when none is unfinished), join waits until
  // none is (false at the deadline).
  void task_done();
  bool join(const Deadline& d);

  // Idempotent. Wakes every blocked getter, putter and selector.
  void close() noexcept;
  bool closed() const noexcept;

  // Readiness registration for selectors and event loops: `w` fires after
  // every put and at close (items), or after every get of a bounded queue
  // and at close (room); at once when the queue already has an item (room)
  // or is closed. Spurious fires are allowed: the waiter re-checks. watch_*
  // throws OSError (arena full); unwatch before freeing `w`.
  void watch_items(shm::Watcher* w);
  void unwatch_items(const shm::Watcher* w) noexcept;
  void watch_room(shm::Watcher* w);
  void unwatch_room(const shm::Watcher* w) noexcept;

  // Threads/processes blocked in get (for tests).
  std::uint32_t waiting_getters() const noexcept;

 private:
  QueueData* data() const noexcept;
};

// The first queue in `queues` (in order) that has an item: its index, with
// the item in `out`. Waits until one has; raises Timeout at the deadline,
// Closed when every queue is closed and drained, ArgumentError when
// `queues` is empty.
std::size_t select(std::span<Queue* const> queues, const Deadline& d, Item& out);


}  // namespace tide::queue
