// Private to host/queue: the queue's state in the shared arena. Only atomics,
// PODs and offsets (no pointers): every process maps it, maybe at another
// address.
//
// Crash safety: items live at ring positions [head, tail) (monotonic
// counters, masked by the ring's capacity), so taking or adding an item
// commits with one store, and growing the ring commits by one store of the
// packed `ring` word. A process killed while holding the lock then leaves a
// usable FIFO/LIFO queue (at worst one item lost); a PriorityQueue killed
// mid-sift may be left out of order.
#pragma once
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/wait_point.hpp"
#include "queue/item.hpp"
#include "queue/queue.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/arena.hpp"
#include "shm/shared.hpp"
#include "shm/watch.hpp"

namespace tide::queue {

using shm::RobustLock;
using shm::RobustMutex;

inline shm::Arena& arena() { return shm::Arena::get(); }

// Under ThreadSanitizer each end re-reads the other's index every time: a
// cached index may have been read by another *process* holding the same
// lock, and TSan cannot see synchronisation that happens in another process
// (it would report the slot reuse that index allows as a race).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kCacheIndices = false;
#else
inline constexpr bool kCacheIndices = true;
#endif

// A PriorityQueue heap entry: the item, its insertion number and its key
// (inline up to 16 bytes, else an arena block of key_len bytes).
struct PEntry {
  Slot item;
  std::uint64_t seq;
  std::uint32_t key_len;
  std::uint32_t reserved;
  char key[16];
};
static_assert(sizeof(PEntry) == 64);
inline constexpr std::uint32_t kInlineKey = 16;

// Locks: a FIFO (Queue, SimpleQueue) has two, so that producers and
// consumers do not contend: put_mutex guards the tail end (tail, writing
// slots, the item watchers), get_mutex the head end (head, reading slots,
// the room watchers). Replacing the ring needs both (put_mutex first);
// close takes them one after the other, never nested (it fires both watcher
// lists). Firing a watcher (shm::fire) takes no lock. A LifoQueue or
// PriorityQueue changes one end only, so every operation takes put_mutex.
// Fields are grouped by who writes them, one cache line per group.
//
// The arena block holds the SharedHeader, then the QueueData at the next
// 64-byte boundary (the arena only aligns to 16; the arena's base is page
// aligned in every process, so the offset is the same everywhere).
struct QueueData {
  // Read-mostly.
  Kind kind;
  std::uint32_t esize;  // bytes per ring element: sizeof(Slot) or sizeof(PEntry)
  std::int64_t maxsize;
  std::atomic<std::uint32_t> closed{0};  // set under put_mutex
  std::uint32_t reserved = 0;
  std::atomic<std::uint64_t> ring{0};  // offset | log2(capacity) << 48; 0 = none yet

  // The producers' end: touched by producers only.
  alignas(64) RobustMutex put_mutex;
  std::uint64_t head_cache = 0;  // under put_mutex: head as last read (<= head)
  shm::WatchSet watchers;        // under put_mutex: fired by puts and close (select, loops)
  std::uint64_t next_seq = 0;    // under put_mutex (PriorityQueue)
  alignas(64) std::atomic<std::uint64_t> tail{0};  // written under put_mutex

  // The consumers' end: touched by consumers only.
  alignas(64) RobustMutex get_mutex;
  std::uint64_t tail_cache = 0;  // under get_mutex: tail as last read (<= tail)
  shm::WatchSet room_watchers;   // under the item mutex: fired by gets of a bounded queue, and close
  alignas(64) std::atomic<std::uint64_t> head{0};  // written under the item mutex

  alignas(64) WaitPoint not_empty;  // notified by every put (core/wait_point.hpp)
  alignas(64) WaitPoint not_full;   // notified by every get of a bounded queue
  alignas(64) std::atomic<std::uint64_t> unfinished{0};
  WaitWord all_done;

  QueueData(Kind k, std::int64_t max) noexcept
      : kind(k), esize(k == Kind::Priority ? sizeof(PEntry) : sizeof(Slot)), maxsize(max) {
    put_mutex.init();
    get_mutex.init();
  }

  bool two_locks() const noexcept { return kind == Kind::Fifo || kind == Kind::Simple; }
  // The lock that guards taking items.
  RobustMutex& item_mutex() noexcept { return two_locks() ? get_mutex : put_mutex; }

  // Each end reads the other's index only when its cached copy says full
  // (producers) or empty (consumers), so in steady state neither pulls the
  // other's cache lines. A LIFO or priority queue (one lock, head fixed at
  // 0) reads tail directly.
  // put_mutex held: is there room for one more item?
  bool has_room_locked() noexcept {
    if (maxsize <= 0) return true;
    auto limit = static_cast<std::uint64_t>(maxsize);
    std::uint64_t t = tail.load(std::memory_order_relaxed);
    if (kCacheIndices && t - head_cache < limit) return true;
    head_cache = head.load(std::memory_order_acquire);
    return t - head_cache < limit;
  }
  // put_mutex held: how many more items the queue may hold (maxsize).
  std::uint64_t room_locked() noexcept {
    if (maxsize <= 0) return ~std::uint64_t(0);
    std::uint64_t used = tail.load(std::memory_order_relaxed) - head_cache;
    auto limit = static_cast<std::uint64_t>(maxsize);
    return used < limit ? limit - used : 0;
  }
  // item mutex held: is there an item to take?
  bool has_item_locked() noexcept {
    if (!two_locks()) return count() != 0;
    std::uint64_t h = head.load(std::memory_order_relaxed);
    if (kCacheIndices && h != tail_cache) return true;
    tail_cache = tail.load(std::memory_order_acquire);
    return h != tail_cache;
  }

  // Exact under the relevant lock, a hint otherwise.
  // (head first: it never passes tail, so the difference is never negative.)
  std::uint64_t count() const noexcept {
    std::uint64_t h = head.load(std::memory_order_acquire);
    return tail.load(std::memory_order_acquire) - h;
  }
  bool is_full() const noexcept { return maxsize > 0 && count() >= static_cast<std::uint64_t>(maxsize); }

  static constexpr std::uint64_t kOffsetMask = (std::uint64_t(1) << 48) - 1;
  std::uint64_t capacity() const noexcept {
    std::uint64_t r = ring.load(std::memory_order_relaxed);
    return r ? std::uint64_t(1) << (r >> 48) : 0;
  }
  // Element at position `pos` (a monotonic index): ring must exist.
  char* element(std::uint64_t pos) const noexcept {
    std::uint64_t r = ring.load(std::memory_order_relaxed);
    std::uint64_t mask = (std::uint64_t(1) << (r >> 48)) - 1;
    return arena().at<char>(r & kOffsetMask) + (pos & mask) * esize;
  }
  Slot* slot(std::uint64_t pos) const noexcept { return reinterpret_cast<Slot*>(element(pos)); }
  PEntry* pentry(std::uint64_t pos) const noexcept { return reinterpret_cast<PEntry*>(element(pos)); }

  // Fires every watcher of items (call with put_mutex held).
  void notify_watchers() noexcept { watchers.fire_all(); }
  // Fires every watcher of room (call with the item mutex held, after a get).
  void notify_room_watchers() noexcept {
    if (maxsize > 0) room_watchers.fire_all();
  }
};

inline constexpr std::size_t kQueueBlockSize = sizeof(shm::SharedHeader) + 64 + sizeof(QueueData);

inline QueueData* queue_data(shm::SharedHeader* h) noexcept {
  auto at = reinterpret_cast<std::uintptr_t>(h) + sizeof(shm::SharedHeader);
  return reinterpret_cast<QueueData*>((at + 63) & ~std::uintptr_t(63));
}

inline std::string_view entry_key(const PEntry& e) noexcept {
  if (e.key_len <= kInlineKey) return {e.key, e.key_len};
  shm::Offset off;
  __builtin_memcpy(&off, e.key, sizeof off);
  return {arena().at<char>(off), e.key_len};
}

}  // namespace tide::queue
