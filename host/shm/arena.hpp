// The shared-memory arena (DESIGN.md mechanism 2). One per process tree:
// an anonymous memfd mapped MAP_SHARED, created on first use, inherited by
// fork() children at the same address, and mappable by spawned children
// through its descriptor (fd()). Nothing is ever named in /dev/shm, so
// nothing is left behind when the last process exits, even after kill -9.
//
// Inside the arena, data refers to other arena data by offset, never by
// pointer, because another process may map it at another address.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tide::shm {

using Offset = std::uint64_t;  // 0 is "none"

struct RobustMutex;
namespace layout {
struct CacheSlot;
struct OwnerSlot;
}

class Arena {
 public:
  // The arena of this process tree, created on first call. Throws OSError.
  // Once it exists, one load: hot paths call this per operation (a
  // call_once per call cost ~30 instructions, ~150 per pool task).
  static Arena& get() {
    if (Arena* a = instance_.load(std::memory_order_acquire)) return *a;
    return create();
  }

  // Makes this process use the arena whose memfd it inherited as `fd`
  // instead of creating one: the entry of a spawned child (`tide --worker`)
  // and of the forkserver, so every shared object their parent passes works
  // there. Must come before the first get(); the descriptor is kept (made
  // close-on-exec). Throws OSError, or InvalidState if the arena already
  // exists or `fd` is not a tide arena.
  static void adopt(int fd);

  // Memory for `size` bytes, 16-byte aligned, zero-filled. Throws OSError
  // (ENOMEM) when the arena is exhausted. Safe from any thread or process.
  void* alloc(std::size_t size);
  void free(void* p) noexcept;

  Offset offset_of(const void* p) const noexcept {
    return p ? static_cast<Offset>(static_cast<const char*>(p) - base_) : 0;
  }
  template <class T = void>
  T* at(Offset off) const noexcept {
    return off ? reinterpret_cast<T*>(base_ + off) : nullptr;
  }
  bool contains(const void* p) const noexcept {
    auto* c = static_cast<const char*>(p);
    return c >= base_ && c < base_ + size_;
  }

  // True if `off` is the start of a block alloc() handed out and has not
  // freed, with room for `need` bytes: the check for offsets that arrive
  // in records from another process (a worker's ChildInfo, stored
  // messages), so a corrupt one is refused instead of read as an object.
  bool is_block(Offset off, std::size_t need) const noexcept;
  // The bytes the block at `p` (from alloc) takes, header included.
  std::size_t block_bytes(const void* p) const noexcept;

  int fd() const noexcept { return fd_; }
  std::size_t size() const noexcept { return size_; }
  // Bytes handed out and not yet freed (for leak checks in tests). Blocks
  // in threads' caches (of small blocks, shm/arena_cache.cpp) are free.
  // Exact while no thread is allocating or freeing: a cache's batch moves
  // the shared count and the cache's separately.
  std::int64_t bytes_in_use() const noexcept;
  // Gives the calling thread's cache of small blocks back (the blocks to
  // the shared lists), as its end does: for a process about to _exit, which
  // runs no thread-exit destructors. Allocs after it use the shared lists.
  static void end_thread_cache() noexcept;
  // Per-thread caches claimed by threads of process `pid`, live or dead
  // (for tests: counting every slot in the tree would also count threads
  // of the test process that end meanwhile).
  int cache_slots_of(pid_t pid) const noexcept;

  // Held by the cycle collector (shm/cycles.hpp) in whichever process runs
  // it, so collections never overlap. It lives in the arena, shared by the
  // whole tree: a fork child finds it held at most by a thread of another
  // process, which releases it; one that died holding it is recovered
  // (robust).
  RobustMutex& cycle_mutex() const noexcept;

  // Slots identifying live owners (processes, threads) for lock ownership.
  // A token is never 0; token_alive() is false once the owner ended or its
  // process died (checked with kill(pid, 0)).
  std::uint64_t claim_owner_token();
  void release_owner_token(std::uint64_t token) noexcept;
  bool token_alive(std::uint64_t token) const noexcept;

 private:
  Arena(int fd, char* base, std::size_t size) : fd_(fd), base_(base), size_(size) {}
  static Arena& create();
  static void publish(Arena* a) noexcept { instance_.store(a, std::memory_order_release); }
  static inline std::atomic<Arena*> instance_{nullptr};  // set once, never cleared
  struct Header;
  Header* header() const noexcept;
  // This thread's cache of small blocks (shm/arena_cache.cpp). cache_alloc
  // returns nullptr when the thread has no cache or the shared lists had
  // nothing to give it; cache_free false when it has no cache.
  struct CacheSlotRef;
  void* cache_alloc(int cls, std::size_t size);
  bool cache_free(void* block, int cls) noexcept;
  std::int64_t cached_bytes() const noexcept;
  layout::CacheSlot* claim_slot() noexcept;
  bool owner_gone(std::uint64_t token) const noexcept;
  layout::OwnerSlot* owner_of(std::uint64_t token) const noexcept;  // nullptr: not a token
  void adopt(layout::CacheSlot& s) noexcept;
  bool refill(layout::CacheSlot& s, int cls);
  void flush(layout::CacheSlot& s, int cls, std::uint32_t n) noexcept;
  int fd_;
  char* base_;
  std::size_t size_;
};

// ThreadSanitizer sees no synchronisation that happens in another process:
// arena memory written by one thread here, handed to another process,
// freed and reused there, and read (or written) by another thread here
// again looks like a race between the two threads of this process. These
// mark the hand-offs for it, and are no-ops in every other build: release
// after writing arena data another process may take over (a stored message,
// a completed future, a freed block), acquire before using arena data another process may
// have written (loading or freeing a stored message, reading a future's
// outcome, a block the allocator hands out).
#if defined(__SANITIZE_THREAD__)
void tsan_handoff_release() noexcept;
void tsan_handoff_acquire() noexcept;
#else
inline void tsan_handoff_release() noexcept {}
inline void tsan_handoff_acquire() noexcept {}
#endif

}  // namespace tide::shm
