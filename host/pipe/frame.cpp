#include "pipe/frame.hpp"

#include <cstring>

namespace tide::pipe {

namespace {

constexpr std::uint64_t kMul1 = 0xff51afd7ed558ccdULL;
constexpr std::uint64_t kMul2 = 0xc4ceb9fe1a85ec53ULL;

inline std::uint64_t rotl(std::uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }

inline std::uint32_t header_checksum(const FrameHeader& h) noexcept {
  return checksum(&h, offsetof(FrameHeader, header_sum), 0x68656164);
}

}  // namespace

// Two independent lanes of multiply-rotate (so the multiplies overlap),
// folded with a murmur3 finaliser: ~1 byte/cycle, and every input bit
// affects every output bit.
std::uint32_t checksum(const void* p, std::size_t n, std::uint64_t seed) noexcept {
  auto* c = static_cast<const unsigned char*>(p);
  std::uint64_t a = seed ^ (n * 0x9E3779B97F4A7C15ULL), b = ~seed;
  while (n >= 16) {
    std::uint64_t x, y;
    std::memcpy(&x, c, 8);
    std::memcpy(&y, c + 8, 8);
    a = rotl(a ^ (x * kMul1), 29) * kMul2;
    b = rotl(b ^ (y * kMul2), 31) * kMul1;
    c += 16;
    n -= 16;
  }
  while (n > 0) {
    std::uint64_t x = 0;
    std::size_t k = n < 8 ? n : 8;
    std::memcpy(&x, c, k);
    a = rotl(a ^ ((x + k) * kMul1), 29) * kMul2;
    c += k;
    n -= k;
  }
  std::uint64_t h = a ^ rotl(b, 17);
  h ^= h >> 33;
  h *= kMul1;
  h ^= h >> 33;
  h *= kMul2;
  h ^= h >> 33;
  return static_cast<std::uint32_t>(h);
}

FrameHeader make_header(FrameKind kind, std::uint32_t count, std::string_view payload) noexcept {
  FrameHeader h{};
  h.magic = kMagic;
  h.kind = static_cast<std::uint8_t>(kind);
  h.count = count;
  h.length = static_cast<std::uint32_t>(payload.size());
  h.payload_sum = checksum(payload.data(), payload.size(), 0x7061796c);
  h.header_sum = header_checksum(h);
  return h;
}

Parse parse_frame(const char* p, std::size_t n, ParsedFrame& out) noexcept {
  out = ParsedFrame{};
  // The magic, byte by byte as far as it has arrived.
  std::uint32_t magic = kMagic;
  const auto* m = reinterpret_cast<const unsigned char*>(&magic);
  for (std::size_t i = 0; i < 4 && i < n; ++i)
    if (static_cast<unsigned char>(p[i]) != m[i]) {
      out.why = "not a tide.pipe frame (bad magic)";
      return Parse::Corrupt;
    }
  if (n < kHeaderSize) return Parse::NeedMore;
  FrameHeader h;
  std::memcpy(&h, p, kHeaderSize);
  if (h.header_sum != header_checksum(h)) {
    out.why = "corrupt frame header (checksum mismatch)";
    return Parse::Corrupt;
  }
  auto kind = static_cast<FrameKind>(h.kind);
  bool kind_ok = kind == FrameKind::Value || kind == FrameKind::Bytes || kind == FrameKind::Ticket ||
                 kind == FrameKind::Wake;
  if (!kind_ok || h.reserved[0] || h.reserved[1] || h.reserved[2] || h.length > kMaxPayload ||
      h.count > kMaxCount || (kind == FrameKind::Bytes && h.count != 1) ||
      (kind == FrameKind::Ticket && h.length != kTicketSize) ||
      (kind == FrameKind::Wake && (h.length != 0 || h.count != 0))) {
    out.why = "malformed frame header";
    return Parse::Corrupt;
  }
  out.kind = kind;
  out.count = h.count;
  out.length = h.length;
  out.total = kHeaderSize + h.length;
  if (n < out.total) return Parse::NeedMore;
  if (h.payload_sum != checksum(p + kHeaderSize, h.length, 0x7061796c)) {
    out.why = "corrupt frame payload (checksum mismatch)";
    return Parse::Corrupt;
  }
  out.payload = p + kHeaderSize;
  return Parse::Frame;
}

}  // namespace tide::pipe
