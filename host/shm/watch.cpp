#include "shm/watch.hpp"

#include <algorithm>
#include <new>

namespace tide::shm {

Beacon* new_beacon() { return new (Arena::get().alloc(sizeof(Beacon))) Beacon(); }

Watcher* new_watcher(Beacon* b) {
  auto* w = new (Arena::get().alloc(sizeof(Watcher))) Watcher();
  w->beacon = Arena::get().offset_of(b);
  return w;
}

void free_beacon(Beacon* b) noexcept {
  if (!b) return;
  b->~Beacon();
  Arena::get().free(b);
}

void free_watcher(Watcher* w) noexcept {
  if (!w) return;
  w->~Watcher();
  Arena::get().free(w);
}

void fire(Watcher& w) noexcept {
  Arena& a = Arena::get();
  auto* b = a.at<Beacon>(w.beacon);
  if (w.queued.exchange(1, std::memory_order_acq_rel) == 0) {
    Offset self = a.offset_of(&w);
    Offset head = b->fired.load(std::memory_order_relaxed);
    do {
      w.next.store(head, std::memory_order_relaxed);
    } while (!b->fired.compare_exchange_weak(head, self, std::memory_order_release, std::memory_order_relaxed));
  }
  // Always bumped: a selector (queue.select) never takes its stack and
  // looks at the sources themselves after every bump.
  b->word.notify_all();
}

void WatchSet::add(const Watcher* w) {
  Arena& a = Arena::get();
  if (count == capacity) {
    std::uint32_t ncap = capacity ? capacity * 2 : 4;
    auto* fresh = static_cast<Offset*>(a.alloc(ncap * sizeof(Offset)));
    if (items) {
      std::copy_n(a.at<Offset>(items), count, fresh);
      a.free(a.at<void>(items));
    }
    items = a.offset_of(fresh);
    capacity = ncap;
  }
  a.at<Offset>(items)[count++] = a.offset_of(w);
}

bool WatchSet::remove(const Watcher* w) noexcept {
  Arena& a = Arena::get();
  Offset mine = a.offset_of(w);
  auto* v = a.at<Offset>(items);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (v[i] == mine) {
      v[i] = v[--count];
      return true;
    }
  }
  return false;
}

void WatchSet::fire_all() noexcept {
  if (count == 0) return;
  Arena& a = Arena::get();
  auto* v = a.at<Offset>(items);
  for (std::uint32_t i = 0; i < count; ++i) fire(*a.at<Watcher>(v[i]));
}

void WatchSet::release() noexcept {
  if (items) Arena::get().free(Arena::get().at<void>(items));
  items = 0;
  count = capacity = 0;
}

}  // namespace tide::shm
