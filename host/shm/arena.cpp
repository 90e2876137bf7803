#include "shm/arena.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "shm/arena_layout.hpp"
#include "shm/owner.hpp"
#include "shm/robust_mutex.hpp"

namespace tide::shm {

using namespace layout;

namespace {

// Up to this many bytes of freed large blocks stay mapped (a high-water
// mark rather than punching every one): a pool map frees its chunk
// messages and makes the next ones the same size, and touching a punched
// page again costs a page fault (15-27 us on a VM) where clearing it costs
// a memset.
constexpr std::int64_t kKeepMapped = std::int64_t(256) << 20;
// In a free block's `cls`: it was left mapped, so its bytes are not zero.
constexpr std::uint32_t kDirty = 0x100;
constexpr std::size_t kPunchFrom = std::size_t(1) << 20;

int ceil_log2(std::size_t n) { return n <= 1 ? 0 : static_cast<int>(std::bit_width(n - 1)); }

std::once_flag g_once;

}  // namespace

Arena& Arena::create() {
  std::call_once(g_once, [] {
    int fd = memfd_create("tide-arena", MFD_CLOEXEC);
    if (fd < 0) throw_os_error("memfd_create", errno);
    if (ftruncate(fd, static_cast<off_t>(kArenaSize)) != 0) {
      int e = errno;
      close(fd);
      throw_os_error("ftruncate(shared arena)", e);
    }
    void* p = mmap(nullptr, kArenaSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      close(fd);
      throw_os_error("mmap(shared arena)", e);
    }
    auto* h = static_cast<Header*>(p);
    h->magic = kMagic;
    h->lock.init();
    h->cycle_mutex.init();
    h->bump = (sizeof(Header) + 4095) & ~Offset(4095);
    publish(new Arena(fd, static_cast<char*>(p), kArenaSize));
  });
  return *instance_.load(std::memory_order_acquire);
}

void Arena::adopt(int fd) {
  bool adopted = false;
  std::call_once(g_once, [&] {
    // Inherited without O_CLOEXEC (it had to cross exec); nothing this
    // process execs later needs it.
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    void* p = mmap(nullptr, kArenaSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) throw_os_error("mmap(inherited arena)", errno);
    if (static_cast<Header*>(p)->magic != kMagic) {
      munmap(p, kArenaSize);
      throw Error(ErrorKind::InvalidState, "inherited descriptor is not a tide arena");
    }
    publish(new Arena(fd, static_cast<char*>(p), kArenaSize));
    adopted = true;
  });
  if (!adopted) throw Error(ErrorKind::InvalidState, "the shared arena already exists in this process");
}

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
namespace {
char g_handoff;  // the one address the hand-off annotations synchronise on
}  // namespace
void tsan_handoff_release() noexcept { __tsan_release(&g_handoff); }
void tsan_handoff_acquire() noexcept { __tsan_acquire(&g_handoff); }
#endif

void* Arena::alloc(std::size_t size) {
  int cls = ceil_log2(size + sizeof(BlockHeader));
  if (cls < kMinClass) cls = kMinClass;
  if (cls >= kClasses) throw Error(ErrorKind::OSError, "shared memory: block too large", ENOMEM);
  if (cls <= kCacheLastClass)
    if (void* p = cache_alloc(cls, size)) return p;
  Header* h = header();
  Offset off;
  bool recycled;
  {
    RobustLock lock(h->lock);
    // Before the free list is read, with the lock held: the head's `next`
    // was written by whoever freed that block, maybe another process, after
    // a thread here last wrote the header (TSan sees only this process's
    // side of the lock). Taken any earlier, a hand-off released while this
    // thread waited for the lock would be missed.
    tsan_handoff_acquire();
    Offset& head = h->free_head(cls);
    off = head;
    recycled = off != 0;
    if (recycled) {
      head = at<BlockHeader>(off)->next;
    } else {
      off = h->bump;
      if (off + (Offset(1) << cls) > size_)
        throw Error(ErrorKind::OSError, "shared memory arena exhausted", ENOMEM);
      h->bump = off + (Offset(1) << cls);
    }
    h->count_in_use(std::int64_t(1) << cls);
  }
  auto* b = at<BlockHeader>(off);
  bool dirty = recycled && (b->cls & kDirty) != 0;
  b->cls = static_cast<std::uint32_t>(cls);
  b->magic = kBlockMagic;
  b->next = 0;
  void* p = b + 1;
  // Fresh and punched-out pages are already zero.
  if (dirty) h->kept_mapped.fetch_sub(std::int64_t(1) << cls, std::memory_order_relaxed);
  if (dirty || (recycled && (std::size_t(1) << cls) < kPunchFrom)) std::memset(p, 0, size);
  tsan_handoff_release();  // the header just written may be read or freed by another process next
  return p;
}

void Arena::free(void* p) noexcept {
  if (!p) return;
  auto* b = static_cast<BlockHeader*>(p) - 1;
  if (b->magic != kBlockMagic) return;  // not ours, or freed twice: never corrupt the lists
  std::size_t bytes = std::size_t(1) << b->cls;
  Header* h = header();
  if (bytes >= kPunchFrom) {
    auto big = static_cast<std::int64_t>(bytes);
    if (h->kept_mapped.fetch_add(big, std::memory_order_relaxed) + big <= kKeepMapped) {
      b->cls |= kDirty;  // cleared when it is handed out again
    } else {
      h->kept_mapped.fetch_sub(big, std::memory_order_relaxed);
      // Give the pages back; the block stays ours (zero-filled on next touch).
      // The partial pages at either end stay: cleared here, so the whole
      // block reads as zero when it is handed out again.
      auto from = reinterpret_cast<std::uintptr_t>(p), to = reinterpret_cast<std::uintptr_t>(b) + bytes;
      auto start = (from + 4095) & ~std::uintptr_t(4095);
      auto end = to & ~std::uintptr_t(4095);
      std::memset(p, 0, start - from);
      std::memset(reinterpret_cast<void*>(end), 0, to - end);
      madvise(reinterpret_cast<void*>(start), end - start, MADV_REMOVE);
    }
  }
  b->magic = 0;
  if (static_cast<int>(b->cls) > kCacheLastClass || !cache_free(b, static_cast<int>(b->cls))) {
    RobustLock lock(h->lock);
    Offset& head = h->free_head(static_cast<int>(b->cls & ~kDirty));
    b->next = head;
    head = offset_of(b);
    h->count_in_use(-static_cast<std::int64_t>(bytes));
  }
  // The block may go to another process next, and come back to a thread of
  // this one through it (a worker stores a result in it): pairs with the
  // acquire in alloc/load_message, as for a stored message.
  tsan_handoff_release();
}

bool Arena::is_block(Offset off, std::size_t need) const noexcept {
  if (off < sizeof(Header) + sizeof(BlockHeader) || off % 16 != 0 || off >= size_) return false;
  const auto* b = at<BlockHeader>(off - sizeof(BlockHeader));
  if (b->magic != kBlockMagic || b->cls < kMinClass || b->cls >= kClasses) return false;
  std::size_t bytes = std::size_t(1) << b->cls;
  return off - sizeof(BlockHeader) + bytes <= size_ && need <= bytes - sizeof(BlockHeader);
}

std::size_t Arena::block_bytes(const void* p) const noexcept {
  return std::size_t(1) << (static_cast<const BlockHeader*>(p)[-1].cls & ~kDirty);
}

RobustMutex& Arena::cycle_mutex() const noexcept { return header()->cycle_mutex; }

std::int64_t Arena::bytes_in_use() const noexcept {
  return header()->in_use.load(std::memory_order_relaxed) - cached_bytes();
}

std::uint64_t Arena::claim_owner_token() {
  Header* h = header();
  pid_t me = getpid();
  std::uint32_t start = h->owner_hint.fetch_add(1, std::memory_order_relaxed);
  for (int n = 0; n < 2 * kOwnerSlots; ++n) {
    std::uint32_t i = (start + static_cast<std::uint32_t>(n)) % kOwnerSlots;
    OwnerSlot& s = h->owners[i];
    std::uint32_t g = s.gen.load(std::memory_order_acquire);
    // A claimed slot whose process died is reclaimed with a new generation.
    bool free_slot = (g & 1) == 0;
    if (!free_slot && (n < kOwnerSlots || pid_alive(s.pid.load(std::memory_order_acquire)))) continue;
    std::uint32_t next = free_slot ? g + 1 : g + 2;
    if (s.gen.compare_exchange_strong(g, next, std::memory_order_acq_rel)) {
      s.pid.store(me, std::memory_order_release);
      return (std::uint64_t(i + 1) << 32) | next;
    }
  }
  throw Error(ErrorKind::OSError, "too many lock owners alive", EAGAIN);
}

OwnerSlot* Arena::owner_of(std::uint64_t token) const noexcept {
  std::uint64_t i = (token >> 32) - 1;  // token 0 wraps past the end
  return i < static_cast<std::uint64_t>(kOwnerSlots) ? &header()->owners[i] : nullptr;
}

void Arena::release_owner_token(std::uint64_t token) noexcept {
  OwnerSlot* s = owner_of(token);
  if (!s) return;
  auto g = static_cast<std::uint32_t>(token);
  s->gen.compare_exchange_strong(g, g + 1, std::memory_order_acq_rel);
}

bool Arena::token_alive(std::uint64_t token) const noexcept {
  const OwnerSlot* s = owner_of(token);
  if (!s || s->gen.load(std::memory_order_acquire) != static_cast<std::uint32_t>(token)) return false;
  return pid_alive(s->pid.load(std::memory_order_acquire));
}

}  // namespace tide::shm
