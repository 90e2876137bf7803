// The transfer codec's encoding of one scalar (integer, float, boolean,
// short string), written and read directly: the fast path for the small
// items that make up most queue traffic (W2). The bytes are exactly what
// codec::encode writes for that value, so codec::decode reads them and this
// reads codec's; the binding checks that once per process against the real
// codec (scalar_wire_agrees) and falls back to the codec if it ever
// disagrees. Everything else always goes through the codec.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "wire/wire.hpp"

namespace tide::queue::scalar_wire {

namespace w = tide::wire;

inline constexpr std::size_t kHeader = 2;  // magic, version
// The longest inline string (a 31-byte slot: header, tag, bytes).
inline constexpr std::size_t kMaxString = 31 - kHeader - 1;

inline char* header(char* out) noexcept {
  out[0] = static_cast<char>(w::kMagic);
  out[1] = static_cast<char>(w::kVersion);
  return out + kHeader;
}

// Each returns the number of bytes written to `out` (room for 31).
inline std::size_t encode_int(char* out, std::int64_t v) noexcept {
  char* c = header(out);
  if (v >= 0 && v < 128) {
    *c++ = static_cast<char>(w::kFixInt + v);
  } else {
    *c++ = static_cast<char>(w::kInt);
    std::uint64_t z = w::zigzag(v);
    while (z >= 0x80) {
      *c++ = static_cast<char>(z | 0x80);
      z >>= 7;
    }
    *c++ = static_cast<char>(z);
  }
  return static_cast<std::size_t>(c - out);
}

inline std::size_t encode_float(char* out, double d) noexcept {
  char* c = header(out);
  *c++ = static_cast<char>(w::kFloat);
  std::uint64_t bits = std::bit_cast<std::uint64_t>(d);
  for (int i = 0; i < 8; ++i) *c++ = static_cast<char>(bits >> (8 * i));
  return static_cast<std::size_t>(c - out);
}

inline std::size_t encode_bool(char* out, bool b) noexcept {
  char* c = header(out);
  *c++ = static_cast<char>(b ? w::kTrue : w::kFalse);
  return static_cast<std::size_t>(c - out);
}

// n <= kMaxString.
inline std::size_t encode_string(char* out, const char* s, std::size_t n) noexcept {
  char* c = header(out);
  *c++ = static_cast<char>(w::kShortStr + n);
  std::memcpy(c, s, n);
  return static_cast<std::size_t>(c + n - out);
}

struct Scalar {
  enum Type { None, Int, Float, Bool, String } type = None;
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string_view s;
};

// The scalar `bytes` hold, or None if they hold anything else (or anything
// malformed): the caller then uses the codec.
inline Scalar decode(std::string_view bytes) noexcept {
  Scalar r;
  auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t n = bytes.size();
  if (n < kHeader + 1 || p[0] != w::kMagic || p[1] != w::kVersion) return r;
  std::uint8_t tag = p[2];
  std::size_t rest = n - kHeader - 1;
  const std::uint8_t* c = p + kHeader + 1;
  if (tag >= w::kFixInt) {
    if (rest != 0) return r;
    r.type = Scalar::Int;
    r.i = tag - w::kFixInt;
  } else if (tag >= w::kShortStr && tag <= w::kShortStr + w::kShortStrMax) {
    if (rest != static_cast<std::size_t>(tag - w::kShortStr)) return r;
    r.type = Scalar::String;
    r.s = {reinterpret_cast<const char*>(c), rest};
  } else if (tag == w::kTrue || tag == w::kFalse) {
    if (rest != 0) return r;
    r.type = Scalar::Bool;
    r.b = tag == w::kTrue;
  } else if (tag == w::kFloat) {
    if (rest != 8) return r;
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= std::uint64_t(c[i]) << (8 * i);
    r.type = Scalar::Float;
    r.f = std::bit_cast<double>(bits);
  } else if (tag == w::kInt) {
    std::uint64_t z = 0;
    std::size_t i = 0;
    for (int shift = 0;; shift += 7, ++i) {
      if (i >= rest || shift > 63) return r;
      z |= std::uint64_t(c[i] & 0x7f) << shift;
      if (!(c[i] & 0x80)) break;
    }
    if (i + 1 != rest) return r;
    r.type = Scalar::Int;
    r.i = w::unzigzag(z);
  }
  return r;
}

}  // namespace tide::queue::scalar_wire
