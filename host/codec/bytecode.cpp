#include "codec/bytecode.hpp"

#include <climits>
#include <cstdint>
#include <cstring>
#include <lua.hpp>

namespace tide::codec::detail {

#if LUA_VERSION_NUM == 504

namespace {

// Mirrors lundump.c (Lua 5.4): varints are big-endian 7-bit groups whose
// last byte has the high bit set.
struct Chunk {
  const std::uint8_t* p;
  const std::uint8_t* end;

  std::size_t left() const { return static_cast<std::size_t>(end - p); }
  bool skip(std::size_t n) {
    if (left() < n) return false;
    p += n;
    return true;
  }
  bool byte(std::uint8_t& b) {
    if (p == end) return false;
    b = *p++;
    return true;
  }
  bool unsigned_(std::size_t& out, std::size_t limit) {
    std::size_t x = 0;
    std::uint8_t b;
    limit >>= 7;
    do {
      if (!byte(b) || x >= limit) return false;
      x = (x << 7) | (b & 0x7f);
    } while ((b & 0x80) == 0);
    out = x;
    return true;
  }
  bool int_(std::size_t& out) { return unsigned_(out, INT_MAX); }
  // A count of elements that each take at least `min_bytes` in the chunk.
  bool count(std::size_t& n, std::size_t min_bytes) {
    return int_(n) && n <= left() / min_bytes;
  }
  bool string() {
    std::size_t size;
    if (!unsigned_(size, ~static_cast<std::size_t>(0))) return false;
    return size == 0 || skip(size - 1);
  }
};

constexpr int kMaxNesting = 200;
constexpr std::size_t kInstructionSize = 4;

bool function(Chunk& c, int depth, std::size_t& nups) {
  if (depth > kMaxNesting) return false;
  std::size_t n, ignored;
  if (!c.string() || !c.int_(ignored) || !c.int_(ignored) || !c.skip(3)) return false;
  // code
  if (!c.count(n, kInstructionSize) || !c.skip(n * kInstructionSize)) return false;
  // constants
  if (!c.count(n, 1)) return false;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t t;
    if (!c.byte(t)) return false;
    switch (t) {
      case 0x00: case 0x01: case 0x11: break;           // nil, false, true
      case 0x03: case 0x13: if (!c.skip(8)) return false; break;  // integer, float
      case 0x04: case 0x14: if (!c.string()) return false; break;  // strings
      default: return false;
    }
  }
  // upvalues
  if (!c.count(nups, 3) || !c.skip(nups * 3)) return false;
  // nested prototypes
  if (!c.count(n, 1)) return false;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t inner;
    if (!function(c, depth + 1, inner)) return false;
  }
  // debug: line info, absolute line info, local variables, upvalue names
  if (!c.count(n, 1) || !c.skip(n)) return false;
  if (!c.count(n, 2)) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!c.int_(ignored) || !c.int_(ignored)) return false;
  if (!c.count(n, 3)) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!c.string() || !c.int_(ignored) || !c.int_(ignored)) return false;
  if (!c.count(n, 1) || n > nups) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!c.string()) return false;
  return true;
}

}  // namespace

bool plausible_bytecode(const char* p, std::size_t n) noexcept {
  // Header: signature (4), version, format, LUAC_DATA (6), sizes of
  // Instruction, lua_Integer and lua_Number, LUAC_INT (8), LUAC_NUM (8).
  // lundump checks the values; we need the layout and Instruction's size.
  constexpr std::size_t kHeader = 4 + 1 + 1 + 6 + 3 + 8 + 8;
  if (n < kHeader + 1 || std::memcmp(p, LUA_SIGNATURE, 4) != 0 ||
      static_cast<std::uint8_t>(p[12]) != kInstructionSize)
    return false;
  Chunk c{reinterpret_cast<const std::uint8_t*>(p) + kHeader,
          reinterpret_cast<const std::uint8_t*>(p) + n};
  std::uint8_t closure_ups;
  std::size_t proto_ups;
  return c.byte(closure_ups) && function(c, 0, proto_ups) && proto_ups == closure_ups &&
         c.p == c.end;
}

#else

bool plausible_bytecode(const char*, std::size_t) noexcept { return true; }

#endif

}  // namespace tide::codec::detail
