// Objects that live in the shared arena (locks, events, queues, values...).
//
// The arena holds the object's data, headed by a SharedHeader with a
// reference count that every process shares. Each process refers to it
// through SharedObject proxies (ordinary tide Objects: what Lua handles and
// Messages hold); each proxy owns one shared reference. The last reference
// dropped in any process destroys the data. References that arena objects
// hold on each other (a queue item or table value that is a shared object)
// can form cycles, which counting alone never frees: shm/cycles.hpp
// collects them.
//
// Types are named by a SharedType number (never a function pointer: a
// spawned child has other addresses), mapped in each process to how the
// data is destroyed and how a proxy is made for it.
#pragma once
#include <atomic>
#include <cstdint>
#include <new>

#include "core/object.hpp"
#include "shm/arena.hpp"

namespace tide::shm {

enum class SharedType : std::uint32_t {
  Lock = 1, RLock, Condition, Semaphore, Event, Barrier,
  Queue, Value, Array, Table, Future, Pipe, Pool, Actor,
};

// Marks a block as a shared object's data, so an offset from a corrupt
// record that lands on other data (a stored message) is refused.
inline constexpr std::uint32_t kSharedMagic = 0x5ea7ed0b;

// `refs` packs the reference count (low 32 bits) with a version (high 32
// bits) that every retain and release bumps in the same atomic add, so the
// cycle collector can tell that no reference came or went while it looked
// (shm/cycles.hpp). `proxies` counts the SharedObject proxies alive in all
// processes (a subset of the references): when it is 0, only arena data
// and internal records hold the object.
struct SharedHeader {
  std::atomic<std::uint64_t> refs{1};
  std::atomic<std::int64_t> proxies{0};
  SharedType type;
  std::uint32_t magic = kSharedMagic;
  std::uint64_t reserved = 0;  // keeps the header 32 bytes (types align what follows to 16)
};
static_assert(sizeof(SharedHeader) == 32);

inline constexpr std::uint64_t kRefVersion = std::uint64_t(1) << 32;
// The reference count in a `refs` word.
inline std::uint32_t ref_count(std::uint64_t word) noexcept { return static_cast<std::uint32_t>(word); }

// What each process knows about a shared type.
struct SharedTypeInfo {
  // Runs the data's destructor (in whichever process drops the last ref).
  void (*destroy)(SharedHeader* data) noexcept;
  // Makes a proxy adopting one shared reference to `data`.
  Object* (*make_proxy)(SharedHeader* data);
  // For types whose data holds references to other shared objects that may
  // lead back to it (queues, tables): calls visit(ctx, offset) once per
  // reference the data holds, at one consistent moment (under the type's
  // own lock, taken without waiting). Returns false, having visited
  // nothing, if that lock is busy. Null for every other type: what such
  // data refers to is never part of a cycle the collector frees.
  bool (*traverse)(SharedHeader* data, void (*visit)(void* ctx, Offset ref), void* ctx) noexcept;
};

// Each module registers its types where it defines them, with a
// namespace-scope RegisterSharedType in the file that defines the type's
// proxy (so the registration is linked whenever the type can exist), e.g.
//   const shm::RegisterSharedType kLockType{SharedType::Lock, {shm::no_data_destructor, shm::proxy_of<Lock>}};
// Registrations run before main() (or while tide.so is loaded), before any
// thread of tide's exists, so the table is read without a lock afterwards
// and a fork child inherits it whole.
struct RegisterSharedType {
  RegisterSharedType(SharedType type, SharedTypeInfo info) noexcept;
};

// The usual SharedTypeInfo parts: data with nothing to release, and a proxy
// of class P (constructed from the header).
inline void no_data_destructor(SharedHeader*) noexcept {}
template <class P>
Object* proxy_of(SharedHeader* h) {
  return new P(h);
}

// Allocates and constructs a T (whose first member is a SharedHeader
// `header`) in the arena with one reference.
template <class T, class... A>
T* create_shared(A&&... args) {
  void* p = Arena::get().alloc(sizeof(T));
  return new (p) T(std::forward<A>(args)...);
}

void retain_shared(SharedHeader* h) noexcept;
// Drops one reference: the last destroys the data. Dropping one of a
// traversable type (queue, table) that no proxy holds any more, while
// others remain, may leave an unreachable cycle: the reference is handed to
// the cycle collector instead (shm/cycles.hpp), which runs before the
// outermost release on this thread returns.
void release_shared(SharedHeader* h) noexcept;

// Drops one reference without offering it to the cycle collector (the
// collector's own releases).
void drop_shared(SharedHeader* h) noexcept;

// Registered type information, or null for an unknown type.
const SharedTypeInfo* shared_type_info(SharedType t) noexcept;

// A proxy for `offset` (taking one new shared reference), for decoding an
// object that arrived from another process. Throws TransferError if the
// offset does not name a live shared object.
Ref<Object> proxy_for(Offset offset);

class SharedObject : public Object {
 public:
  // Adopts one shared reference to `header`.
  explicit SharedObject(SharedHeader* header);
  ~SharedObject() override;

  SharedHeader* shared_header() const noexcept { return header_; }
  const void* identity() const noexcept override { return header_; }
  std::size_t footprint() const noexcept override {
    return sizeof(SharedObject) + Arena::get().block_bytes(header_);
  }
  Offset offset() const noexcept { return Arena::get().offset_of(header_); }

  // Drops this proxy's shared reference now, for a proxy borrowed from a
  // record another process keeps alive (a child's own Future): it stays
  // usable only while that holds, and its destruction drops nothing more.
  void give_up_reference() noexcept;

 private:
  friend void fork_prepare() noexcept;
  friend void fork_parent() noexcept;
  friend void fork_child() noexcept;
  friend void release_process_references() noexcept;
  void unlink_locked() noexcept;
  bool released() const noexcept;
  SharedHeader* header_;
  bool released_ = false;  // give_up_reference
  std::uint64_t serial_ = 0;  // order of creation in this process
  SharedObject* prev_ = nullptr;  // this process's live proxies (fork accounting)
  SharedObject* next_ = nullptr;
};

// For a child process about to end with no thread of its own left (its
// Lua state closed): drops the references of every proxy still alive in it
// (the copies a fork child inherits of its parent's proxies, proxies kept
// by globals), so that what only they held, garbage cycles included, is
// freed now rather than kept until the whole process tree has exited. The
// proxies stay allocated and drop nothing when destroyed.
void release_process_references() noexcept;

// Fork accounting: a fork child holds a copy of every proxy, so each one is
// given a shared reference of its own before the fork. Installed by
// AtFork (core/fork_safe.hpp) while the program starts.
void fork_prepare() noexcept;
void fork_parent() noexcept;
void fork_child() noexcept;

}  // namespace tide::shm
