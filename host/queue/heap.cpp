#include "queue/heap.hpp"

#include <cstring>

#include "core/error.hpp"
#include "queue/priority_key.hpp"

namespace tide::queue {

namespace {

// Ties (equal keys) go by insertion number: equal priorities leave in
// insertion order. Taking the top must not fail, so it uses the total order.
bool heap_less(const PEntry& a, const PEntry& b) noexcept {
  int c = compare_keys_total(entry_key(a), entry_key(b));
  return c != 0 ? c < 0 : a.seq < b.seq;
}

[[noreturn]] void unorderable() {
  throw Error(ErrorKind::ArgumentError,
              "PriorityQueue: cannot order this item against the items in the queue "
              "(e.g. a number against a string at the same position)");
}

}  // namespace

void free_entry_key(const PEntry& e) noexcept {
  if (e.key_len <= kInlineKey) return;
  shm::Offset off;
  std::memcpy(&off, e.key, sizeof off);
  arena().free(arena().at<void>(off));
}

void heap_insert(QueueData* q, const Slot& slot, std::string_view key) {
  std::uint64_t n = q->tail.load(std::memory_order_relaxed);
  // Where the entry goes, comparing as Python's heappush would (and with
  // the top): any comparison that fails refuses the item before any move.
  std::uint64_t i = n;
  bool top_checked = n == 0;
  while (i > 0) {
    std::uint64_t p = (i - 1) / 2;
    Order o = compare_keys(key, entry_key(*q->pentry(p)));
    if (o == Order::Incomparable) unorderable();
    top_checked = p == 0;
    if (o != Order::Less) break;  // a tie stays below: insertion order
    i = p;
  }
  if (!top_checked && compare_keys(key, entry_key(*q->pentry(0))) == Order::Incomparable) unorderable();
  PEntry e{};
  e.key_len = static_cast<std::uint32_t>(key.size());
  if (key.size() <= kInlineKey) {
    std::memcpy(e.key, key.data(), key.size());
  } else {
    void* block = arena().alloc(key.size());
    std::memcpy(block, key.data(), key.size());
    shm::Offset off = arena().offset_of(block);
    std::memcpy(e.key, &off, sizeof off);
  }
  e.seq = q->next_seq++;
  for (std::uint64_t j = n; j > i; j = (j - 1) / 2) *q->pentry(j) = *q->pentry((j - 1) / 2);
  e.item = slot;
  *q->pentry(i) = e;
  q->tail.store(n + 1, std::memory_order_release);
}

Slot heap_pop(QueueData* q) noexcept {
  std::uint64_t n = q->tail.load(std::memory_order_relaxed) - 1;
  PEntry top = *q->pentry(0);
  PEntry last = *q->pentry(n);
  std::uint64_t i = 0;
  for (;;) {
    std::uint64_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_less(*q->pentry(c + 1), *q->pentry(c))) ++c;
    if (!heap_less(*q->pentry(c), last)) break;
    *q->pentry(i) = *q->pentry(c);
    i = c;
  }
  if (n > 0) *q->pentry(i) = last;
  q->tail.store(n, std::memory_order_release);
  free_entry_key(top);
  return top.item;
}

}  // namespace tide::queue
