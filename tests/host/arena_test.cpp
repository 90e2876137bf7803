// The shared arena's handing out of blocks again: large ones are left
// mapped when freed up to a high-water mark (no page faults when a map makes
// its next chunk), beyond it punched out; small ones go to the freeing
// thread's cache, which a fork child never shares and which outlives a
// process that died holding it. Either way alloc returns zeroed bytes.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "shm/arena.hpp"
#include "shm/arena_layout.hpp"
#include "test_util.hpp"

namespace {

// memcmp, not a byte loop: under the sanitizers every byte read of a loop
// is instrumented, and these are 900 MB of reads.
bool all_zero(const unsigned char* p, std::size_t n) {
  static const unsigned char zero[1 << 16] = {};
  for (std::size_t i = 0; i < n; i += sizeof zero)
    if (std::memcmp(p + i, zero, std::min(sizeof zero, n - i)) != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("arena: a large block freed and handed out again is zeroed, kept mapped or punched") {
  auto& a = tide::shm::Arena::get();
  constexpr std::size_t kBig = (std::size_t(3) << 20) / 2;  // the 2 MiB class
  std::int64_t before = a.bytes_in_use();
  // 300 blocks: more than the 256 MiB kept mapped, so both paths run.
  std::vector<void*> blocks;
  for (int i = 0; i < 300; ++i) {
    void* p = a.alloc(kBig);
    REQUIRE(all_zero(static_cast<unsigned char*>(p), kBig));
    std::memset(p, 0xab, kBig);
    blocks.push_back(p);
  }
  for (void* p : blocks) a.free(p);
  CHECK(a.bytes_in_use() == before);
  int zeroed = 0;
  std::vector<void*> again;
  for (int i = 0; i < 300; ++i) {
    void* p = a.alloc(kBig);
    zeroed += all_zero(static_cast<unsigned char*>(p), kBig);
    again.push_back(p);
  }
  CHECK(zeroed == 300);
  for (void* p : again) a.free(p);
  CHECK(a.bytes_in_use() == before);
}

namespace {
// One size in each cached class (32 to 512-byte blocks) and one beyond them.
constexpr std::size_t kSizes[] = {10, 40, 100, 200, 400, 1000};
}  // namespace

TEST_CASE("arena: a small block freed is this thread's next of its size, zeroed; a double free is ignored") {
  auto& a = tide::shm::Arena::get();
  std::int64_t before = a.bytes_in_use();
  for (std::size_t size : kSizes) {
    CAPTURE(size);
    void* p = a.alloc(size);
    std::memset(p, 0xab, size);
    a.free(p);
    CHECK(a.bytes_in_use() == before);
    void* q = a.alloc(size);
    if (size <= 400) CHECK(q == p);  // from the cache, most recent first
    CHECK(all_zero(static_cast<unsigned char*>(q), size));
    a.free(q);
    a.free(q);  // the second is ignored: q is on one list once
    void* r1 = a.alloc(size);
    void* r2 = a.alloc(size);
    CHECK(r1 != r2);
    a.free(r1);
    a.free(r2);
    CHECK(a.bytes_in_use() == before);
  }
}

TEST_CASE("arena: blocks one thread allocates and another frees are never handed out twice, nor lost") {
  auto& a = tide::shm::Arena::get();
  const int n = test_util::kSanitized ? 20000 : 200000;
  std::int64_t before = a.bytes_in_use();
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::pair<void*, std::size_t>> handed;
  std::unordered_set<void*> live;  // handed out and not yet freed
  int duplicates = 0, corrupt = 0;
  std::thread consumer([&] {
    for (int i = 0; i < n; ++i) {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return !handed.empty(); });
      auto [p, size] = handed.front();
      handed.pop_front();
      live.erase(p);
      lk.unlock();
      int seq;
      std::memcpy(&seq, p, sizeof seq);
      corrupt += seq != i;
      std::memset(p, 0xff, size);
      a.free(p);
    }
  });
  for (int i = 0; i < n; ++i) {
    std::size_t size = kSizes[i % 6];
    void* p = a.alloc(size);
    std::memcpy(p, &i, sizeof i);
    std::lock_guard lk(m);
    duplicates += !live.insert(p).second;
    handed.emplace_back(p, size);
    cv.notify_one();
  }
  consumer.join();
  CHECK(duplicates == 0);
  CHECK(corrupt == 0);
  CHECK(a.bytes_in_use() == before);
}

TEST_CASE("arena: a fork child takes its own cache; the cache of a process that died is adopted, not lost") {
  using tide::shm::layout::kCacheSlots;
  auto& a = tide::shm::Arena::get();
  void* mine = a.alloc(100);
  a.free(mine);  // the head of this thread's cache
  std::int64_t before = a.bytes_in_use();
  // A child that gives its cache back before _exit (as process children
  // do) leaves no slot claimed.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    a.free(a.alloc(100));
    bool had_own = a.cache_slots_of(getpid()) == 1;
    tide::shm::Arena::end_thread_cache();
    a.free(a.alloc(100));  // from the shared lists now
    _exit(had_own && a.cache_slots_of(getpid()) == 0 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(a.cache_slots_of(pid) == 0);
  CHECK(a.bytes_in_use() == before);

  pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Sharing the parent's cache would hand out `mine` here as well.
    void* c = a.alloc(100);
    for (std::size_t size : kSizes) a.free(a.alloc(size));
    a.free(c);
    _exit(c == mine ? 1 : 0);  // no thread exit: the child's cache stays claimed
  }
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(a.cache_slots_of(pid) == 1);
  CHECK(a.bytes_in_use() == before);  // the dead child's cached blocks count as free
  void* again = a.alloc(100);
  CHECK(again == mine);
  a.free(again);

  // More threads at once than there are caches: every slot of a dead
  // process is adopted, the rest use the shared lists.
  const int threads = kCacheSlots + 44;
  std::barrier all_hold(threads);
  std::mutex m;
  std::vector<void*> held;
  std::atomic<int> overwritten{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::vector<void*> ps;
      for (std::size_t size : kSizes) {
        void* p = a.alloc(size);
        std::memset(p, t & 0xff, size);
        ps.push_back(p);
      }
      {
        std::lock_guard lk(m);
        held.insert(held.end(), ps.begin(), ps.end());
      }
      all_hold.arrive_and_wait();
      for (std::size_t i = 0; i < ps.size(); ++i) {
        auto* b = static_cast<unsigned char*>(ps[i]);
        if (std::count(b, b + kSizes[i], static_cast<unsigned char>(t & 0xff)) != static_cast<long>(kSizes[i]))
          overwritten.fetch_add(1);
        a.free(ps[i]);
      }
    });
  for (auto& th : ts) th.join();
  std::sort(held.begin(), held.end());
  CHECK(std::adjacent_find(held.begin(), held.end()) == held.end());
  CHECK(overwritten.load() == 0);
  CHECK(a.cache_slots_of(pid) == 0);  // the dead child's was adopted (and given back)
  CHECK(a.bytes_in_use() == before);
}
