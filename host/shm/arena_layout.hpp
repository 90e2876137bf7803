// The arena's own records (private to host/shm/arena*.cpp): the header at
// offset 0 that every process of the tree shares, and the per-block header.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/arena.hpp"
#include "shm/robust_mutex.hpp"

namespace tide::shm::layout {

// Virtual size only: memfd pages cost memory once touched, and freed large
// blocks beyond the high-water mark are punched out again (MADV_REMOVE).
inline constexpr std::size_t kArenaSize = std::size_t(4) << 30;
inline constexpr int kMinClass = 5;   // 32-byte blocks (16 header + 16 payload)
inline constexpr int kClasses = 33;   // up to 4 GiB
inline constexpr std::uint64_t kMagic = 0x336e726165646974ULL;  // "tidearn3"
inline constexpr std::uint32_t kBlockMagic = 0x7ab1e5edu;
inline constexpr int kOwnerSlots = 8192;

// Per-thread caches (shm/arena_cache.cpp) hold blocks of classes 5 to 9
// (up to 512 bytes), up to kCacheMax of each, moved to and from the shared
// lists kCacheBatch at a time.
inline constexpr int kCacheLastClass = 9;
inline constexpr int kCachedClasses = kCacheLastClass - kMinClass + 1;
inline constexpr std::uint32_t kCacheBatch = 16;
inline constexpr std::uint32_t kCacheMax = 2 * kCacheBatch;
inline constexpr int kCacheSlots = 256;

struct BlockHeader {
  std::uint32_t cls;
  std::uint32_t magic;  // kBlockMagic while handed out, 0 while free
  std::uint64_t next;   // free-list link while free
};
static_assert(sizeof(BlockHeader) == 16);

struct OwnerSlot {
  std::atomic<std::uint32_t> gen;  // odd: claimed
  std::atomic<std::int32_t> pid;
};

// One thread's cache. Only its owner touches the lists, so they take no
// lock; they live here rather than in the thread, so that the cache of a
// process that died (SIGKILL, _exit) is adopted by the next thread that
// finds no free slot instead of being lost. Every step keeps each block on
// at most one list: one killed midway loses a block, never hands one out
// twice.
struct alignas(64) CacheSlot {
  std::atomic<std::uint64_t> owner;  // owner token (Arena::claim_owner_token); 0: free
  std::atomic<std::int64_t> bytes;   // on the lists: free, though the shared count says in use
  Offset head[kCachedClasses];
  std::uint32_t count[kCachedClasses];
};

}  // namespace tide::shm::layout

namespace tide::shm {

// Every alloc and free that misses its thread's cache takes the lock and
// updates in_use under it: those, the bump pointer and the free lists of
// classes 5 to 9 (up to 512 bytes) share the first cache line, so the line
// moves to the allocating core once per alloc, not three times (issue 14).
struct Arena::Header {
  RobustMutex lock;  // guards bump, free lists, in_use; a dead holder's lists stay usable
  std::atomic<std::int64_t> in_use;  // written under the lock, read without it
  Offset bump;
  Offset free_list[layout::kClasses - layout::kMinClass];  // free_head(cls)
  std::uint64_t magic;
  std::atomic<std::int64_t> kept_mapped;  // bytes of free large blocks not punched (kDirty)
  std::atomic<std::uint32_t> owner_hint;
  RobustMutex cycle_mutex;  // see Arena::cycle_mutex()
  layout::OwnerSlot owners[layout::kOwnerSlots];
  layout::CacheSlot caches[layout::kCacheSlots];

  Offset& free_head(int cls) noexcept { return free_list[cls - layout::kMinClass]; }
  // Under the lock: one writer at a time, so no locked instruction.
  void count_in_use(std::int64_t delta) noexcept {
    in_use.store(in_use.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
};

inline Arena::Header* Arena::header() const noexcept {
  static_assert(offsetof(Header, free_list) + 5 * sizeof(Offset) <= 64, "classes 5-9 leave the lock's line");
  return reinterpret_cast<Header*>(base_);
}

}  // namespace tide::shm
