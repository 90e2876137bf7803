// Per-thread caches of small arena blocks (issue 14): a thread that frees a
// block of up to 512 bytes keeps it for its next alloc of that size, with
// no lock and no cache line shared with another core. Blocks move between a
// cache and the shared free lists kCacheBatch at a time, so a thread that
// only frees what another allocates (a queue's consumer) takes the arena's
// lock once per batch instead of once per block.
//
// A cache is a CacheSlot in the arena header, claimed by a thread on its
// first small alloc or free and given back, emptied, when the thread ends.
// A fork child claims its own (the slot it inherited belongs to the parent's
// thread). A process that died or left with _exit never gives its slots
// back: a thread that finds no free slot adopts one whose owner is dead,
// cached blocks and all. Until then bytes_in_use() counts them as free.
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/fork_safe.hpp"
#include "shm/arena.hpp"
#include "shm/arena_layout.hpp"
#include "shm/owner.hpp"
#include "shm/robust_mutex.hpp"

namespace tide::shm {

using namespace layout;

namespace {

// The slot this thread uses in process t_pid (nullptr: none was free), or
// nothing yet when t_pid is not this process (first use, or a fork child).
thread_local CacheSlot* t_slot = nullptr;
thread_local pid_t t_pid = 0;

std::uint64_t bytes_of(int cls) { return std::uint64_t(1) << cls; }

void add_bytes(CacheSlot& s, std::int64_t delta) noexcept {
  s.bytes.store(s.bytes.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

// A fork child's one thread is the forking one, whose slot is the parent's.
// (The pid check in mine() alone would be fooled by a child given the pid
// of a dead ancestor whose slot the thread still names.)
void forget_slot_in_child() {
  t_slot = nullptr;
  t_pid = 0;
}
const AtFork g_at_fork{nullptr, nullptr, forget_slot_in_child};

}  // namespace

void Arena::end_thread_cache() noexcept {
  if (!t_slot || t_pid != current_pid()) return;
  Arena& a = *instance_.load(std::memory_order_acquire);  // it made the slot
  CacheSlot& s = *t_slot;
  for (int cls = kMinClass; cls <= kCacheLastClass; ++cls) a.flush(s, cls, s.count[cls - kMinClass]);
  std::uint64_t token = s.owner.load(std::memory_order_relaxed);
  s.owner.store(0, std::memory_order_release);
  a.release_owner_token(token);
  t_slot = nullptr;  // t_pid stays: an alloc after this one uses the shared lists
}

// Gives this thread's slot back when the thread ends (or the process calls
// exit()).
struct Arena::CacheSlotRef {
  ~CacheSlotRef() { Arena::end_thread_cache(); }

  static CacheSlot* mine(Arena& a) noexcept {
    if (t_pid == current_pid()) return t_slot;
    t_pid = current_pid();
    t_slot = a.claim_slot();
    if (t_slot) {
      thread_local CacheSlotRef ref;  // constructed here, on the thread's first claim
      (void)ref;
    }
    return t_slot;
  }
};

CacheSlot* Arena::claim_slot() noexcept {
  std::uint64_t token;
  try {
    token = claim_owner_token();
  } catch (...) {
    return nullptr;  // every owner slot taken: this thread uses the shared lists
  }
  Header* h = header();
  for (CacheSlot& s : h->caches) {
    std::uint64_t free_slot = 0;
    // Read first: a failed compare-and-swap would still take each line
    // away from the core whose thread owns it.
    if (s.owner.load(std::memory_order_relaxed) == 0 &&
        s.owner.compare_exchange_strong(free_slot, token, std::memory_order_acq_rel))
      return &s;
  }
  // Only when every slot is claimed (a system call per slot looked at).
  for (CacheSlot& s : h->caches) {
    std::uint64_t old = s.owner.load(std::memory_order_acquire);
    if (old && owner_gone(old) && s.owner.compare_exchange_strong(old, token, std::memory_order_acq_rel)) {
      adopt(s);
      return &s;
    }
  }
  release_owner_token(token);
  return nullptr;
}

// Whether the process that claimed `token` has ended and been reaped.
// Stricter than token_alive, which takes a zombie, or a process whose main
// thread exited before its others, for dead: a lock may be taken over on
// that evidence, but adopting a live thread's cache would hand its blocks
// out twice. A slot whose owner entry was taken over since waits (a leak of
// one cache, never a block on two lists).
bool Arena::owner_gone(std::uint64_t token) const noexcept {
  const OwnerSlot* o = owner_of(token);
  pid_t pid = o ? o->pid.load(std::memory_order_acquire) : 0;
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

// The lists of a slot whose owner died: each step of its owner left every
// block on at most one list, but a list may end in a block it was taking
// off or putting on when it died. Keeps each list up to its count (one
// short while a push was under way: that block is lost) and its first block
// that is not a free block of its class, and recounts.
void Arena::adopt(CacheSlot& s) noexcept {
  tsan_handoff_acquire();
  std::int64_t bytes = 0;
  for (int cls = kMinClass; cls <= kCacheLastClass; ++cls) {
    int i = cls - kMinClass;
    Offset* link = &s.head[i];
    std::uint32_t n = 0;
    const std::uint32_t most = std::min(s.count[i], kCacheMax + 1);
    while (*link && n < most) {
      Offset off = *link;
      if (off < sizeof(Header) || off % 16 != 0 || off + bytes_of(cls) > size_) break;
      auto* b = at<BlockHeader>(off);
      if (b->magic != 0 || b->cls != static_cast<std::uint32_t>(cls)) break;
      ++n;
      link = &b->next;
    }
    *link = 0;
    s.count[i] = n;
    bytes += static_cast<std::int64_t>(n * bytes_of(cls));
  }
  s.bytes.store(bytes, std::memory_order_relaxed);
}

// Up to kCacheBatch blocks from the shared list of `cls`, or fresh ones
// from the bump pointer when it is empty; false if the arena is exhausted.
bool Arena::refill(CacheSlot& s, int cls) {
  const int i = cls - kMinClass;
  Header* h = header();
  Offset first = 0;
  Offset* link = &first;
  std::uint32_t n = 0;
  {
    RobustLock lock(h->lock);
    tsan_handoff_acquire();  // the blocks' links were written by whoever freed them (see alloc)
    Offset& shared = h->free_head(cls);
    for (; n < kCacheBatch && shared; ++n) {
      Offset off = shared;
      auto* b = at<BlockHeader>(off);
      shared = b->next;  // taken off before it is linked here: on one list at a time
      *link = off;
      link = &b->next;
    }
    const bool fresh = n == 0;  // the list was empty: blocks from the bump pointer
    for (; fresh && n < kCacheBatch; ++n) {
      if (h->bump + bytes_of(cls) > size_) break;
      Offset off = h->bump;
      h->bump += bytes_of(cls);
      auto* b = at<BlockHeader>(off);
      b->cls = static_cast<std::uint32_t>(cls);
      *link = off;
      link = &b->next;
    }
    h->count_in_use(static_cast<std::int64_t>(n * bytes_of(cls)));
  }
  if (n == 0) return false;
  *link = 0;  // the last one linked to the shared list's new head
  // The compiler keeps these stores in order (the CPU does on x86): a
  // process killed between them must not leave a list running into another.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  s.head[i] = first;
  s.count[i] = n;
  add_bytes(s, static_cast<std::int64_t>(n * bytes_of(cls)));
  return true;
}

// Moves the first n blocks of the slot's `cls` list to the shared list.
void Arena::flush(CacheSlot& s, int cls, std::uint32_t n) noexcept {
  const int i = cls - kMinClass;
  if (n == 0) return;
  Offset first = s.head[i];
  Offset last = first;
  for (std::uint32_t k = 1; k < n; ++k) last = at<BlockHeader>(last)->next;
  auto* tail = at<BlockHeader>(last);
  // Off this list first: killed between the two, the blocks are lost, not
  // on two lists.
  s.head[i] = tail->next;
  s.count[i] -= n;
  add_bytes(s, -static_cast<std::int64_t>(n * bytes_of(cls)));
  std::atomic_signal_fence(std::memory_order_seq_cst);  // not moved past the lock's acquire
  Header* h = header();
  {
    RobustLock lock(h->lock);
    Offset& shared = h->free_head(cls);
    tail->next = shared;
    shared = first;
    h->count_in_use(-static_cast<std::int64_t>(n * bytes_of(cls)));
  }
  tsan_handoff_release();
}

void* Arena::cache_alloc(int cls, std::size_t size) {
  CacheSlot* s = CacheSlotRef::mine(*this);
  if (!s) return nullptr;
  const int i = cls - kMinClass;
  if (s->count[i] == 0 && !refill(*s, cls)) return nullptr;
  Offset off = s->head[i];
  auto* b = at<BlockHeader>(off);
  s->head[i] = b->next;
  s->count[i] -= 1;
  add_bytes(*s, -static_cast<std::int64_t>(bytes_of(cls)));
  tsan_handoff_acquire();
  b->cls = static_cast<std::uint32_t>(cls);
  b->magic = kBlockMagic;
  b->next = 0;
  void* p = b + 1;
  std::memset(p, 0, size);  // a recycled block; a fresh one costs the same
  tsan_handoff_release();
  return p;
}

bool Arena::cache_free(void* block, int cls) noexcept {
  CacheSlot* s = CacheSlotRef::mine(*this);
  if (!s) return false;
  const int i = cls - kMinClass;
  auto* b = static_cast<BlockHeader*>(block);
  b->next = s->head[i];  // linked before it is on the list
  std::atomic_signal_fence(std::memory_order_seq_cst);
  s->head[i] = offset_of(b);
  s->count[i] += 1;
  add_bytes(*s, static_cast<std::int64_t>(bytes_of(cls)));
  if (s->count[i] > kCacheMax) flush(*s, cls, kCacheBatch);
  return true;
}

std::int64_t Arena::cached_bytes() const noexcept {
  std::int64_t sum = 0;
  for (const CacheSlot& s : header()->caches) sum += s.bytes.load(std::memory_order_relaxed);
  return sum;
}

int Arena::cache_slots_of(pid_t pid) const noexcept {
  int n = 0;
  for (const CacheSlot& s : header()->caches) {
    const OwnerSlot* o = owner_of(s.owner.load(std::memory_order_acquire));
    n += o && o->pid.load(std::memory_order_acquire) == pid;
  }
  return n;
}

}  // namespace tide::shm
