// The shared arena's small blocks between threads: one thread allocates a
// 100-byte block and hands it over a ring, the other frees it (a queue item
// or a future, made by one thread and dropped by another). Beside it, the
// same with glibc's malloc/free (the C reference: process-private memory)
// and the ring alone (the floor both pay). ns per block, median of 7,
// modes alternated so each run meets the same load.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "shm/arena.hpp"

namespace {

constexpr int kRing = 1024;
constexpr int kBlocks = 1000000;
std::atomic<void*> g_ring[kRing];
char g_token;  // what the ring-only mode passes

template <class Alloc, class Free>
double run(Alloc alloc, Free release) {
  for (auto& r : g_ring) r.store(nullptr, std::memory_order_relaxed);
  auto t0 = std::chrono::steady_clock::now();
  std::thread consumer([&] {
    for (int i = 0; i < kBlocks; ++i) {
      void* p;
      while (!(p = g_ring[i % kRing].load(std::memory_order_acquire))) {
      }
      g_ring[i % kRing].store(nullptr, std::memory_order_relaxed);
      release(p);
    }
  });
  for (int i = 0; i < kBlocks; ++i) {
    void* p = alloc();
    while (g_ring[i % kRing].load(std::memory_order_acquire)) {
    }
    g_ring[i % kRing].store(p, std::memory_order_release);
  }
  consumer.join();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kBlocks;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  tide::shm::Arena& arena = tide::shm::Arena::get();
  std::vector<double> tide_ns, malloc_ns, ring_ns;
  for (int rep = 0; rep < 7; ++rep) {
    tide_ns.push_back(run([&] { return arena.alloc(100); }, [&](void* p) { arena.free(p); }));
    malloc_ns.push_back(run([] { return std::malloc(100); }, [](void* p) { std::free(p); }));
    ring_ns.push_back(run([] { return static_cast<void*>(&g_token); }, [](void*) {}));
  }
  double t = median(tide_ns), c = median(malloc_ns), r = median(ring_ns);
  std::printf(
      "arena pair (alloc in one thread, free in another, 100 B): tide %.1f ns/block   "
      "C malloc/free %.1f   ring alone %.1f   tide/C x%.2f\n",
      t, c, r, t / c);
  return 0;
}
