// The cycle collector of the shared arena.
//
// Shared objects count their references (shm/shared.hpp), and arena data
// holds references too: a queue's items and a shared Table's values are
// stored messages, each holding one reference to every shared object in
// it (and a completed future's results too). A queue put into itself, or
// two tables holding each other, keep each other's counts above zero after
// every process let go of them, so counting alone would never free them.
//
// The design: synchronous trial deletion (Bacon and Rajan), made safe
// against the other threads and processes that use the arena meanwhile.
//
// When a collection is tried. Every object counts, besides its references,
// the proxies (SharedObject, i.e. handles in any process) that hold it.
// Only a release of a traversable type (one whose data holds references:
// Queue, Table, Future; see SharedTypeInfo::traverse) that leaves
// references but no proxy may have made a cycle unreachable:
// release_shared hands that reference to this collector instead of dropping
// it (offer), and the collection runs before the outermost release on this
// thread returns.
// Releases made while destroying an object (its items dropping their
// references) are queued and collected after it (Defer). One exception
// keeps the cost linear: after a collection that walked a big graph of
// live objects (256 or more), the thread keeps the next offered references
// (holding them) until a quarter as many are pending, or the thread ends, or
// flush() (a child process flushes before it exits); otherwise building a
// long chain of tables by prepending would walk the chain at every step. Every other
// release costs one load more than before. Whatever made a group of objects
// unreachable was the release of its last outside reference, on some
// member, with no proxy left: that release is offered, so every garbage
// cycle is looked at after its last reference went (and it stays garbage:
// nothing can reach it again).
//
// A collection (one at a time in the whole process tree: the arena's
// cycle_mutex), from the offered roots:
//  A. Discover: every object reachable from the roots through the data of
//     traversable objects, each retained by the collector (under the
//     container's lock, where the item that refers to it keeps it alive),
//     so none is freed while it looks.
//  B. Read each object's `refs` word: count and version.
//  C. Enumerate each traversable object's references again, under its lock
//     (try-lock only: a busy container is in use by someone holding it, so
//     it counts as reachable, and a collector never waits for a lock).
//  D. Read every word again. An object whose word changed was retained or
//     released meanwhile: someone holds it, so it counts as reachable (and
//     so does all it refers to). Every other count held still all through
//     C, so the references C saw into it are references the arena data
//     holds: an object whose count minus those references (minus the
//     collector's own holds) is above zero is held from outside (a proxy, a
//     message in flight, a pool task, a child's record...), and so is
//     everything it reaches. The rest is garbage. (Taking an item out of a
//     queue or table turns its references into proxies: retains, which
//     change the words, so a reference cannot move from the arena to a
//     process unseen; and whoever took it held the container, which is
//     then reachable, as is what its items referred to when C saw them.)
//  E. Free the garbage: destroy each object's data (dropping the references
//     its items hold, so objects outside the group it referred to are
//     released as usual), then free the blocks; then drop the collector's
//     holds on everything else.
//
// Kept as before: a process killed while it held proxies never drops their
// references, so whatever they reach stays (the arena goes when the last
// process of the tree exits). A collector killed mid-collection leaves its
// holds (the same); the robust cycle_mutex lets the next one run.
//
// Cost: an offered release walks the data of the objects reachable from
// the root (reading each item's header, not its bytes) twice; releases that
// leave a proxy, or drop the last reference, or concern other types, cost
// nothing more.
#pragma once
#include <cstdint>

#include "shm/shared.hpp"

namespace tide::shm {

class CycleCollector {
 public:
  // release_shared's hook: true if it took over the reference (a
  // traversable object with references left but no proxy); the collection
  // runs now, or when the outermost Defer on this thread ends.
  static bool offer(SharedHeader* h) noexcept;

  // Collects now what this thread has been offered and not collected yet
  // (see "When a collection is tried").
  static void flush() noexcept;
  // In a fork child: the forking thread's pending references belong to the
  // parent; the child's copy of the list is dropped without releasing them.
  static void forget_after_fork() noexcept;

  // While one exists on this thread, offered references are queued, not
  // collected (an object's destruction in progress).
  class Defer {
   public:
    Defer() noexcept;
    ~Defer();
    Defer(const Defer&) = delete;
    Defer& operator=(const Defer&) = delete;
  };

  // For tests: objects this process has freed as garbage cycles, and
  // collections that saw a count change while they looked.
  static std::uint64_t freed() noexcept;
  static std::uint64_t abandoned() noexcept;
};

}  // namespace tide::shm
