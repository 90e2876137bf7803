#include "queue/queue.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "core/error.hpp"
#include "queue/heap.hpp"
#include "queue/queue_data.hpp"
#include "shm/stored_message.hpp"

namespace tide::queue {

namespace {

constexpr std::uint64_t kInitialCapacity = 16;
// An empty ring bigger than this is given back to the arena.
constexpr std::uint64_t kShrinkAbove = 1 << 16;
// With `lk` holding `m`: unless ready(), waits for it with `m` released.
// False at the deadline. The caller re-checks under the lock. Sets
// `waited` when it slept: the caller then passes the baton (WaitPoint).
template <class Ready>
bool wait_ready(RobustLock& lk, RobustMutex& m, WaitPoint& w, const Deadline& d, bool& waited, Ready&& ready) {
  if (ready()) return true;
  if (d.passed()) return false;
  lk.unlock();
  waited = true;
  bool ok = w.wait(d, ready);
  lk.relock(m);
  return ok;
}

// Doubles the ring (put_mutex held; a FIFO's get_mutex is taken here too,
// after the allocation, which may throw).
void grow(QueueData* q) {
  std::uint64_t cap = q->capacity();
  std::uint64_t ncap = cap ? cap * 2 : kInitialCapacity;
  if (q->maxsize > 0) {  // no bigger than a bounded queue can ever need
    std::uint64_t need = std::bit_ceil(static_cast<std::uint64_t>(q->maxsize));
    if (ncap > need && need > cap) ncap = need;
  }
  auto* fresh = static_cast<char*>(arena().alloc(ncap * q->esize));
  if (q->two_locks()) q->get_mutex.lock();
  std::uint64_t head = q->head.load(std::memory_order_relaxed);
  std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
  for (std::uint64_t pos = head; pos != tail; ++pos)
    std::memcpy(fresh + (pos & (ncap - 1)) * q->esize, q->element(pos), q->esize);
  std::uint64_t old = q->ring.load(std::memory_order_relaxed);
  std::uint64_t word = arena().offset_of(fresh) | (std::uint64_t(std::countr_zero(ncap)) << 48);
  q->ring.store(word, std::memory_order_relaxed);  // the one store that commits
  if (q->two_locks()) q->get_mutex.unlock();
  if (old) arena().free(arena().at<void>(old & QueueData::kOffsetMask));
}

// Makes the ring hold `n` more items (put_mutex held).
void ensure_capacity(QueueData* q, std::uint64_t n) {
  std::uint64_t t = q->tail.load(std::memory_order_relaxed);
  if (kCacheIndices && t - q->head_cache + n <= q->capacity()) return;
  q->head_cache = q->head.load(std::memory_order_acquire);
  while (t - q->head_cache + n > q->capacity()) grow(q);
}

// Adds one item (put_mutex held, room checked). Throws OSError (arena
// full) or ArgumentError (a priority key that cannot be ordered); the slot
// is then still the caller's.
void insert_slot(QueueData* q, const Slot& slot, std::string_view key) {
  ensure_capacity(q, 1);
  if (q->kind == Kind::Priority) {
    heap_insert(q, slot, key);
  } else {
    std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
    *q->slot(tail) = slot;
    q->tail.store(tail + 1, std::memory_order_release);  // publishes the slot
  }
  if (q->kind != Kind::Simple) q->unfinished.fetch_add(1, std::memory_order_relaxed);
}

// Adds n slots at the tail (put_mutex held, room checked, not a heap).
void append_slots(QueueData* q, const Slot* src, std::uint64_t n) {
  ensure_capacity(q, n);
  std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
  std::uint64_t cap = q->capacity();
  std::uint64_t first = std::min(n, cap - (tail & (cap - 1)));  // up to the ring's end
  std::memcpy(q->slot(tail), src, first * sizeof(Slot));
  if (n > first) std::memcpy(q->slot(tail + first), src + first, (n - first) * sizeof(Slot));
  q->tail.store(tail + n, std::memory_order_release);
  if (q->kind != Kind::Simple) q->unfinished.fetch_add(n, std::memory_order_relaxed);
}

// Frees a big ring the queue no longer needs (item mutex held, queue empty).
// A FIFO also needs put_mutex; it is only tried, to keep the lock order.
void maybe_shrink(QueueData* q) noexcept {
  if (q->capacity() <= kShrinkAbove || q->has_item_locked()) return;
  if (q->two_locks() && !q->put_mutex.try_lock()) return;
  if (q->count() == 0) {
    arena().free(arena().at<void>(q->ring.load(std::memory_order_relaxed) & QueueData::kOffsetMask));
    q->ring.store(0, std::memory_order_relaxed);
  }
  if (q->two_locks()) q->put_mutex.unlock();
}

// Removes the next item (item mutex held, count() > 0).
Slot take_locked(QueueData* q) noexcept {
  Slot s;
  switch (q->kind) {
    case Kind::Fifo:
    case Kind::Simple: {
      std::uint64_t head = q->head.load(std::memory_order_relaxed);
      s = *q->slot(head);
      q->head.store(head + 1, std::memory_order_release);  // frees the slot for reuse
      break;
    }
    case Kind::Lifo: {
      std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
      s = *q->slot(tail - 1);
      q->tail.store(tail - 1, std::memory_order_release);
      break;
    }
    case Kind::Priority:
      s = heap_pop(q);
      break;
  }
  maybe_shrink(q);
  return s;
}

// Moves up to `max` items from the head of a FIFO into `out` (get_mutex
// held, at least one there). Returns how many.
std::uint64_t take_front(QueueData* q, Slot* out, std::uint64_t max) noexcept {
  std::uint64_t head = q->head.load(std::memory_order_relaxed);
  if (q->tail_cache - head < max) q->tail_cache = q->tail.load(std::memory_order_acquire);
  std::uint64_t n = std::min(max, q->tail_cache - head);
  std::uint64_t cap = q->capacity();
  std::uint64_t first = std::min(n, cap - (head & (cap - 1)));
  std::memcpy(out, q->slot(head), first * sizeof(Slot));
  if (n > first) std::memcpy(out + first, q->slot(head + first), (n - first) * sizeof(Slot));
  q->head.store(head + n, std::memory_order_release);
  maybe_shrink(q);
  return n;
}

// With `lk` holding put_mutex: waits until the queue has room. False at
// the deadline; throws Closed. Sets `waited` if it had to wait.
bool wait_room(RobustLock& lk, QueueData* q, const Deadline& d, bool& waited) {
  auto ready = [q] { return !q->is_full() || q->closed.load(std::memory_order_relaxed); };
  for (;;) {
    if (q->closed.load(std::memory_order_relaxed)) throw Error(ErrorKind::Closed, "put to a closed queue");
    if (q->has_room_locked()) return true;
    if (!wait_ready(lk, q->put_mutex, q->not_full, d, waited, ready) && !ready()) return false;
  }
}

// With `lk` holding the item mutex: waits until the queue has an item.
// Throws Empty at the deadline, Closed when closed and drained. Sets
// `waited` if it had to wait.
void wait_item(RobustLock& lk, QueueData* q, const Deadline& d, bool& waited) {
  auto ready = [q] { return q->count() != 0 || q->closed.load(std::memory_order_relaxed); };
  while (!q->has_item_locked()) {
    if (q->closed.load(std::memory_order_relaxed)) throw Error(ErrorKind::Closed, "get from a closed queue");
    if (!wait_ready(lk, q->item_mutex(), q->not_empty, d, waited, ready) && !ready())
      throw Error(ErrorKind::Empty, "the queue is empty");
  }
}

// After a put: a putter that slept for room and sees room left wakes the
// next putter waiting for room (the baton, core/wait_point.hpp).
void pass_room_on(QueueData* q, bool waited) noexcept {
  if (waited && !q->is_full()) q->not_full.pass_on();
}

// After a get took items: room for a waiting putter, and the baton to the
// next sleeping getter if this one slept and items are left.
void took(QueueData* q, bool waited) noexcept {
  if (q->maxsize > 0) q->not_full.notify_one();
  if (waited && q->count() != 0) q->not_empty.pass_on();
}

void destroy(shm::SharedHeader* h) noexcept {
  QueueData* q = queue_data(h);
  std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
  for (std::uint64_t pos = q->head.load(std::memory_order_relaxed); pos != tail; ++pos) {
    if (q->kind == Kind::Priority) {
      free_entry_key(*q->pentry(pos));
      free_slot(q->pentry(pos)->item);
    } else {
      free_slot(*q->slot(pos));
    }
  }
  if (std::uint64_t r = q->ring.load(std::memory_order_relaxed))
    arena().free(arena().at<void>(r & QueueData::kOffsetMask));
  q->watchers.release();
  q->room_watchers.release();
  q->put_mutex.destroy();
  q->get_mutex.destroy();
  q->~QueueData();
}

Object* make_proxy(shm::SharedHeader* h) { return new Queue(h); }

// The cycle collector's view (shm/cycles.hpp): the shared objects the
// queued items refer to, with both ends locked (put_mutex first), so no
// item comes or goes meanwhile. Never waits: a busy queue is in use.
bool traverse(shm::SharedHeader* h, void (*visit)(void*, shm::Offset), void* ctx) noexcept {
  QueueData* q = queue_data(h);
  if (!q->put_mutex.try_lock()) return false;
  bool both = q->two_locks();
  if (both && !q->get_mutex.try_lock()) {
    q->put_mutex.unlock();
    return false;
  }
  shm::tsan_handoff_acquire();  // items another process put
  if (q->ring.load(std::memory_order_relaxed)) {
    std::uint64_t tail = q->tail.load(std::memory_order_relaxed);
    for (std::uint64_t pos = q->head.load(std::memory_order_relaxed); pos != tail; ++pos) {
      const Slot& s = q->kind == Kind::Priority ? q->pentry(pos)->item : *q->slot(pos);
      if (shm::Offset m = slot_stored_message(s)) shm::visit_message_refs(m, visit, ctx);
    }
  }
  if (both) q->get_mutex.unlock();
  q->put_mutex.unlock();
  return true;
}

}  // namespace

Ref<Queue> Queue::create(Kind kind, std::int64_t maxsize) {
  if (maxsize < 0) throw Error(ErrorKind::ArgumentError, "maxsize must not be negative");
  if (kind == Kind::Simple) maxsize = 0;
  auto* h = new (arena().alloc(kQueueBlockSize)) shm::SharedHeader();
  h->type = shm::SharedType::Queue;
  new (queue_data(h)) QueueData(kind, maxsize);
  try {
    return Ref<Queue>::adopt(new Queue(h));
  } catch (...) {
    shm::release_shared(h);
    throw;
  }
}

QueueData* Queue::data() const noexcept { return queue_data(shared_header()); }

const char* Queue::type_name() const noexcept {
  return kTypeNames[static_cast<std::uint32_t>(data()->kind) & 3];
}

Kind Queue::kind() const noexcept { return data()->kind; }
std::int64_t Queue::maxsize() const noexcept { return data()->maxsize; }
std::size_t Queue::qsize() const noexcept { return data()->count(); }
bool Queue::full() const noexcept { return data()->is_full(); }
bool Queue::closed() const noexcept { return data()->closed.load(std::memory_order_acquire) != 0; }
std::uint32_t Queue::waiting_getters() const noexcept {
  return data()->not_empty.word.waiters.load(std::memory_order_acquire);
}

void Queue::put(Item&& item, const Deadline& d) {
  put_slot(item.slot_view(), item.key(), d);
  item.release_slot();  // the queue owns it now (nothing after the insert throws)
}

void Queue::put_slot(const Slot& slot, std::string_view key, const Deadline& d) {
  QueueData* q = data();
  bool waited = false;
  {
    RobustLock lk(q->put_mutex);
    if (!wait_room(lk, q, d, waited)) throw Error(ErrorKind::Full, "the queue is full");
    insert_slot(q, slot, key);
    q->notify_watchers();
  }
  q->not_empty.notify_one();
  pass_room_on(q, waited);
}

std::size_t Queue::put_many(ItemBatch& batch, const Deadline& d) {
  QueueData* q = data();
  std::size_t done = 0;
  while (batch.size() > 0) {
    std::uint64_t added = 0;
    bool waited = false;
    // One wake-up however many went in: each woken getter passes the baton.
    auto wake = [&] {
      if (added > 0) q->not_empty.notify_one();
      pass_room_on(q, waited);
    };
    try {
      RobustLock lk(q->put_mutex);
      if (!wait_room(lk, q, d, waited)) return done;
      std::uint64_t n = std::min<std::uint64_t>(batch.size(), q->room_locked());
      if (q->kind == Kind::Priority) {
        for (; added < n; ++added) {
          insert_slot(q, batch.slot(0), batch.key(0));
          batch.given_away(1);
        }
      } else {
        append_slots(q, &batch.slot(0), n);
        batch.given_away(n);
        added = n;
      }
      q->notify_watchers();
    } catch (...) {
      wake();  // what went in before the failure
      throw;
    }
    wake();
    done += added;
  }
  return done;
}

Item Queue::get(const Deadline& d) {
  QueueData* q = data();
  Slot s;
  bool waited = false;
  {
    RobustLock lk(q->item_mutex());
    wait_item(lk, q, d, waited);
    s = take_locked(q);
    q->notify_room_watchers();
  }
  took(q, waited);
  return Item::adopt(s);
}

void Queue::get_many(ItemBatch& out, std::size_t max, const Deadline& d) {
  if (max == 0) return;
  // Room first: nothing may allocate once items are taken.
  out.reserve(std::min<std::size_t>(max, 1 << 16));
  std::size_t room = std::min(max, out.spare());
  Slot* dst = out.tail_space();
  QueueData* q = data();
  std::size_t taken = 0;
  bool waited = false;
  {
    RobustLock lk(q->item_mutex());
    wait_item(lk, q, d, waited);
    if (q->two_locks()) {
      taken = take_front(q, dst, room);
    } else {
      for (; taken < room && q->has_item_locked(); ++taken) dst[taken] = take_locked(q);
    }
    q->notify_room_watchers();
  }
  out.appended(taken);
  took(q, waited);
}

Queue::Poll Queue::try_get(Item& out) {
  QueueData* q = data();
  Slot s;
  {
    RobustLock lk(q->item_mutex());
    if (!q->has_item_locked()) return q->closed.load(std::memory_order_relaxed) ? Poll::Closed : Poll::Empty;
    s = take_locked(q);
    q->notify_room_watchers();
  }
  took(q, false);
  out = Item::adopt(s);
  return Poll::Got;
}

void Queue::task_done() {
  QueueData* q = data();
  std::uint64_t n = q->unfinished.load(std::memory_order_relaxed);
  do {
    if (n == 0) throw Error(ErrorKind::InvalidState, "task_done() called more times than there were items");
  } while (!q->unfinished.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel));
  if (n == 1) q->all_done.notify_all();
}

bool Queue::join(const Deadline& d) {
  QueueData* q = data();
  return wait_until(q->all_done, d, [q] { return q->unfinished.load(std::memory_order_acquire) == 0; });
}

void Queue::close() noexcept {
  QueueData* q = data();
  {
    RobustLock lk(q->put_mutex);
    q->closed.store(1, std::memory_order_release);
    q->notify_watchers();
  }
  {
    RobustLock lk(q->item_mutex());
    q->room_watchers.fire_all();
  }
  q->not_empty.notify_all();
  q->not_full.notify_all();
}

void Queue::watch_items(shm::Watcher* w) {
  QueueData* q = data();
  RobustLock lk(q->put_mutex);
  q->watchers.add(w);
  if (q->count() != 0 || q->closed.load(std::memory_order_relaxed)) shm::fire(*w);
}

void Queue::unwatch_items(const shm::Watcher* w) noexcept {
  QueueData* q = data();
  RobustLock lk(q->put_mutex);
  q->watchers.remove(w);
}

void Queue::watch_room(shm::Watcher* w) {
  QueueData* q = data();
  RobustLock lk(q->item_mutex());
  q->room_watchers.add(w);
  // A put that fills the queue after this check is harmless (the waiter
  // re-checks); a get after it fires the watcher (it needs this lock).
  if (!q->is_full() || q->closed.load(std::memory_order_relaxed)) shm::fire(*w);
}

void Queue::unwatch_room(const shm::Watcher* w) noexcept {
  QueueData* q = data();
  RobustLock lk(q->item_mutex());
  q->room_watchers.remove(w);
}

namespace {
const shm::RegisterSharedType kQueueType{shm::SharedType::Queue, {destroy, make_proxy, traverse}};
}  // namespace

}  // namespace tide::queue
