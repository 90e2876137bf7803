// The shared arena's handing out of large blocks again: up to a high-water
// mark they are left mapped when freed (no page faults when a map makes its
// next chunk), beyond it punched out; either way alloc returns zeroed bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "shm/arena.hpp"

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
