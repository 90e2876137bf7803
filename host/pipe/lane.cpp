#include "pipe/lane.hpp"

#include <chrono>
#include <cstddef>
#include <cstring>
#include <new>

namespace tide::pipe::lane {

namespace {

constexpr std::uint64_t kCapacity = 64 * 1024;  // bytes of entries; a power of two
constexpr std::uint32_t kMaxPayload = 16 * 1024;  // bigger messages take the socket
constexpr std::int64_t kPeerCheckNs = 1'000'000;

struct EntryHeader {
  std::uint32_t length;
  std::uint32_t count;
  std::uint8_t kind;
  std::uint8_t pad[7];
};
static_assert(sizeof(EntryHeader) == 16);

constexpr std::uint64_t padded(std::uint64_t n) noexcept { return (n + 7) & ~std::uint64_t(7); }

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// head is the receiver's, tail the sender's: each on a 64-byte line of its
// own (by padding: arena blocks are only 16-byte aligned).
struct Lane {
  std::atomic<std::uint64_t> head{0};
  std::atomic<std::uint64_t> socket_taken{0};
  char pad0[48];
  std::atomic<std::uint64_t> tail{0};
  std::atomic<std::uint64_t> socket_sent{0};
  std::atomic<std::int64_t> checked_at{0};  // steady clock, ns; the same clock in every process
  std::atomic<std::uint32_t> closes_seen{0};
  char pad1[36];
  std::atomic<std::uint32_t> waiting{0};
  std::atomic<std::uint32_t> reader_closes{0};
  std::atomic<std::uint32_t> refs{1};
  char pad2[52];
  char data[kCapacity];
};
static_assert(offsetof(Lane, tail) == 64 && offsetof(Lane, waiting) == 128 && offsetof(Lane, data) == 192);

namespace {

// Copies between the ring and flat memory, wrapping at the end.
void copy_in(Lane& l, std::uint64_t pos, const void* src, std::size_t n) noexcept {
  std::size_t at = pos & (kCapacity - 1), first = std::min<std::size_t>(n, kCapacity - at);
  std::memcpy(l.data + at, src, first);
  std::memcpy(l.data, static_cast<const char*>(src) + first, n - first);
}
void copy_out(const Lane& l, std::uint64_t pos, void* dst, std::size_t n) noexcept {
  std::size_t at = pos & (kCapacity - 1), first = std::min<std::size_t>(n, kCapacity - at);
  std::memcpy(dst, l.data + at, first);
  std::memcpy(static_cast<char*>(dst) + first, l.data, n - first);
}

shm::Arena& arena() { return shm::Arena::get(); }

}  // namespace

shm::Offset create() {
  void* p = arena().alloc(sizeof(Lane));
  return arena().offset_of(new (p) Lane);
}

void retain(shm::Offset off) noexcept {
  if (off) at(off).refs.fetch_add(1, std::memory_order_relaxed);
}

void release(shm::Offset off) noexcept {
  if (!off) return;
  Lane& l = at(off);
  if (l.refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  l.~Lane();
  arena().free(&l);
}

Lane& at(shm::Offset off) noexcept { return *arena().at<Lane>(off); }

bool put(Lane& l, FrameKind kind, std::uint32_t count, std::string_view payload) noexcept {
  if (payload.size() > kMaxPayload) return false;
  if (l.socket_sent.load(std::memory_order_relaxed) != l.socket_taken.load(std::memory_order_acquire)) return false;
  std::uint64_t tail = l.tail.load(std::memory_order_relaxed);
  std::uint64_t need = sizeof(EntryHeader) + padded(payload.size());
  if (kCapacity - (tail - l.head.load(std::memory_order_acquire)) < need) return false;
  EntryHeader h{static_cast<std::uint32_t>(payload.size()), count, static_cast<std::uint8_t>(kind), {}};
  copy_in(l, tail, &h, sizeof h);
  copy_in(l, tail + sizeof h, payload.data(), payload.size());
  // seq_cst: ordered before the load of `waiting` in wake_requested (the
  // receiver stores `waiting`, then loads `tail`).
  l.tail.store(tail + need, std::memory_order_seq_cst);
  return true;
}

bool wake_requested(Lane& l) noexcept {
  return l.waiting.load(std::memory_order_seq_cst) != 0 && l.waiting.exchange(0, std::memory_order_seq_cst) != 0;
}

void socket_frame_sending(Lane& l) noexcept { l.socket_sent.fetch_add(1, std::memory_order_relaxed); }
void socket_frame_unsent(Lane& l) noexcept { l.socket_sent.fetch_sub(1, std::memory_order_relaxed); }

bool peer_check_due(Lane& l) noexcept {
  return l.reader_closes.load(std::memory_order_acquire) != l.closes_seen.load(std::memory_order_relaxed) ||
         now_ns() - l.checked_at.load(std::memory_order_relaxed) >= kPeerCheckNs;
}

void peer_checked(Lane& l) noexcept {
  l.closes_seen.store(l.reader_closes.load(std::memory_order_acquire), std::memory_order_relaxed);
  l.checked_at.store(now_ns(), std::memory_order_relaxed);
}

bool nonempty(const Lane& l) noexcept {
  return l.tail.load(std::memory_order_seq_cst) != l.head.load(std::memory_order_relaxed);
}

Entry front(const Lane& l) noexcept {
  EntryHeader h;
  copy_out(l, l.head.load(std::memory_order_relaxed), &h, sizeof h);
  return Entry{static_cast<FrameKind>(h.kind), h.count, h.length};
}

void take(Lane& l, std::string& payload) {
  std::uint64_t head = l.head.load(std::memory_order_relaxed);
  EntryHeader h;
  copy_out(l, head, &h, sizeof h);
  payload.resize(h.length);
  copy_out(l, head + sizeof h, payload.data(), h.length);
  // Only now: a receiver that dies before this leaves the entry for the next.
  l.head.store(head + sizeof h + padded(h.length), std::memory_order_release);
}

bool socket_pending(const Lane& l) noexcept {
  return l.socket_sent.load(std::memory_order_acquire) != l.socket_taken.load(std::memory_order_relaxed);
}

void socket_frame_taken(Lane& l) noexcept { l.socket_taken.fetch_add(1, std::memory_order_release); }

void arm(Lane& l) noexcept { l.waiting.store(1, std::memory_order_seq_cst); }

std::atomic<std::uint32_t>& reader_closes(Lane& l) noexcept { return l.reader_closes; }

}  // namespace tide::pipe::lane
