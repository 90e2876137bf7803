// The wire format of tide.pipe: every message is one frame, a fixed header
// followed by its payload.
//
//   offset size  field
//        0    4  magic    "TDP" + format version (1)
//        4    1  kind     FrameKind
//        5    3  reserved zero
//        8    4  count    values in the message (Value, Ticket); 1 for Bytes
//       12    4  length   payload bytes (at most kMaxPayload)
//       16    4  payload_sum  checksum of the payload
//       20    4  header_sum   checksum of bytes 0..19
//
// Integers are in host byte order: both ends are on one machine (a pipe,
// a socketpair or a FIFO). The header has its own checksum so a corrupt
// length is caught before the reader trusts it (never an allocation or a
// wait for bytes that will not come); the payload checksum catches
// corruption inside the message. A stream that fails either check is lost:
// there is no way to find the next frame boundary, so the reader raises
// TransferError and the connection is closed.
//
// Pure functions on byte buffers (no descriptors, no Lua): the frame
// reader is unit-tested and fuzzed on its own (tests/fuzz/pipe_frames.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tide::pipe {

enum class FrameKind : std::uint8_t {
  Value = 1,   // transfer-codec bytes of `count` values, no tide objects
  Bytes = 2,   // one raw string (send_bytes, or send of a single string)
  Ticket = 3,  // an 8-byte token naming a message stored in the arena
  Wake = 4,    // no payload, no message: wakes a reader of a Pipe()'s lane (lane.hpp)
};

inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::uint32_t kMagic = 0x01504454;  // "TDP\1" little-endian
inline constexpr std::uint32_t kMaxPayload = 1u << 30;  // 1 GiB
inline constexpr std::uint32_t kMaxCount = 1u << 20;     // values per message
inline constexpr std::size_t kTicketSize = 8;

struct FrameHeader {
  std::uint32_t magic;
  std::uint8_t kind;
  std::uint8_t reserved[3];
  std::uint32_t count;
  std::uint32_t length;
  std::uint32_t payload_sum;
  std::uint32_t header_sum;
};
static_assert(sizeof(FrameHeader) == kHeaderSize);

// A fast 32-bit checksum (not cryptographic: it detects corruption, not
// forgery; a peer that can write to the pipe is trusted, as in Python).
std::uint32_t checksum(const void* p, std::size_t n, std::uint64_t seed) noexcept;

// The header for a payload (caller checks the limits).
FrameHeader make_header(FrameKind kind, std::uint32_t count, std::string_view payload) noexcept;

enum class Parse {
  NeedMore,  // a valid prefix: read more (out.total says how much if known)
  Frame,     // a complete, verified frame
  Corrupt,   // not a frame: `why` says what is wrong
};

struct ParsedFrame {
  FrameKind kind{};
  std::uint32_t count = 0;
  std::uint32_t length = 0;    // valid once the header is (NeedMore or Frame)
  std::size_t total = 0;       // header + payload; 0 while the header is incomplete
  const char* payload = nullptr;  // into the parsed buffer (Frame only)
  const char* why = "";           // Corrupt only
};

// Looks at the start of a stream buffer. Rejects garbage as early as the
// bytes allow: a wrong magic byte is Corrupt from the first byte, so a
// stray write never leaves a reader waiting for a header.
Parse parse_frame(const char* p, std::size_t n, ParsedFrame& out) noexcept;

}  // namespace tide::pipe
