// Objects that live in the shared arena (locks, events, queues, values...).
//
// The arena holds the object's data, headed by a SharedHeader with a
// reference count that every process shares. Each process refers to it
// through SharedObject proxies (ordinary tide Objects: what Lua handles and
// Messages hold); each proxy owns one shared reference. The last reference
// dropped in any process destroys the data.
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

struct SharedHeader {
  std::atomic<std::int64_t> refs{1};
  SharedType type;
  std::uint32_t magic = kSharedMagic;
};

// What each process knows about a shared type.
struct SharedTypeInfo {
  // Runs the data's destructor (in whichever process drops the last ref).
  void (*destroy)(SharedHeader* data) noexcept;
  // Makes a proxy adopting one shared reference to `data`.
  Object* (*make_proxy)(SharedHeader* data);
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
void release_shared(SharedHeader* h) noexcept;

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
  Offset offset() const noexcept { return Arena::get().offset_of(header_); }

 private:
  friend void fork_prepare() noexcept;
  friend void fork_parent() noexcept;
  friend void fork_child() noexcept;
  SharedHeader* header_;
  SharedObject* prev_ = nullptr;  // this process's live proxies (fork accounting)
  SharedObject* next_ = nullptr;
};

// Fork accounting: a fork child holds a copy of every proxy, so each one is
// given a shared reference of its own before the fork. Installed with
// pthread_atfork on first use of the arena.
void fork_prepare() noexcept;
void fork_parent() noexcept;
void fork_child() noexcept;

}  // namespace tide::shm
