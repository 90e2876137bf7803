// The transfer codec's wire format, shared by the codec's encoder and
// decoder (host/codec) and the queue's scalar fast path. No Lua here:
// tags, a growable Writer over the message's std::string, a bounds-checked
// Reader, and a small pointer map for the encoder's identity tracking.
//
// Message layout: kMagic kVersion, then the values, each one tagged:
//   0x00 nil  0x01 false  0x02 true
//   0x03 int      zigzag varint            0x80..0xff  int 0..127
//   0x04 float    8 bytes, IEEE-754 bits little-endian
//   0x05 string   varint length, bytes     0x20..0x3f  string of length 0..31
//   0x06 globals  the receiving state's global table
//   0x07 ref      varint d: the object that got id (next id - d)
//   0x08 cfunc    string module, string field
//   0x09 module   string name: require(name)
//   0x0a upjoin   varint d, varint n (only in an upvalue list): share upvalue
//                 n of the function referred to as by `ref d`
//   0x10 table    u32 narr, u32 nhash, narr values (keys 1..narr),
//                 nhash key/value pairs. | kShared, | kErrorTable
//   0x14 func     u32 length, bytecode, varint nups, nups upvalues. | kShared
//   0x16 purefunc u32 length, bytecode; every upvalue is the global table
//   0x18 object   varint index into Message::objects. | kShared
// Tables, functions and objects get ids 0, 1, 2... in order of appearance;
// the encoder sets kShared on an object's tag once a later ref names it, so
// the decoder only remembers objects that are referred to again.
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace tide::wire {

inline constexpr std::uint8_t kMagic = 0x74;  // 't'
inline constexpr std::uint8_t kVersion = 1;

enum Tag : std::uint8_t {
  kNil = 0x00, kFalse = 0x01, kTrue = 0x02, kInt = 0x03, kFloat = 0x04,
  kStr = 0x05, kGlobals = 0x06, kRef = 0x07, kCFunc = 0x08, kModule = 0x09,
  kUpJoin = 0x0a,
  kTable = 0x10, kFunc = 0x14, kPureFunc = 0x16, kObject = 0x18,
  kShortStr = 0x20, kFixInt = 0x80,
};
inline constexpr std::uint8_t kShared = 0x01;
inline constexpr std::uint8_t kErrorTable = 0x02;
inline constexpr std::size_t kShortStrMax = 31;

inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Appends to a std::string. Writes go to an inline buffer first, so a small
// message costs one exact append (often no allocation at all); a bigger one
// moves to writing in place in the string, grown ahead and trimmed by
// finish(). Positions (pos(), patch_*) count from the start of the string.
// Every put returns false on out-of-memory instead of throwing, so it is
// safe under lua_pcall.
class Writer {
 public:
  explicit Writer(std::string& s) noexcept
      : s_(&s), buf_(local_), cur_(local_), lim_(local_ + kLocal), off_(s.size()) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  std::size_t pos() const noexcept { return off_ + static_cast<std::size_t>(cur_ - buf_); }
  bool reserve(std::size_t k) noexcept {
    return static_cast<std::size_t>(lim_ - cur_) >= k || grow(k);
  }
  // Makes the string hold exactly what was written.
  void finish() {
    if (buf_ == local_)
      s_->append(local_, static_cast<std::size_t>(cur_ - local_));
    else
      s_->resize(pos());
  }

  // (Bytes are written through a local pointer: a store through char*
  // could alias cur_ itself, which would force a reload per byte.)
  bool put_u8(std::uint8_t b) noexcept {
    if (!reserve(1)) return false;
    *cur_++ = static_cast<char>(b);
    return true;
  }
  bool put_varint(std::uint64_t v) noexcept {
    if (!reserve(10)) return false;
    cur_ = varint_at(cur_, v);
    return true;
  }
  bool put_tag_varint(std::uint8_t tag, std::uint64_t v) noexcept {
    if (!reserve(11)) return false;
    char* c = cur_;
    *c++ = static_cast<char>(tag);
    cur_ = varint_at(c, v);
    return true;
  }
  bool put_u32(std::uint32_t v) noexcept {
    if (!reserve(4)) return false;
    char* c = cur_;
    store_le(c, v);
    cur_ = c + 4;
    return true;
  }
  void patch_u32(std::size_t p, std::uint32_t v) noexcept { store_le(at(p), v); }
  void set_bits(std::size_t p, std::uint8_t bits) noexcept {
    char* c = at(p);
    *c = static_cast<char>(static_cast<std::uint8_t>(*c) | bits);
  }

  bool put_int(std::int64_t i) noexcept {
    if (i >= 0 && i < 128) return put_u8(static_cast<std::uint8_t>(kFixInt + i));
    return put_tag_varint(kInt, zigzag(i));
  }
  bool put_float(double d) noexcept {
    if (!reserve(9)) return false;
    char* c = cur_;
    *c = static_cast<char>(kFloat);
    store_le(c + 1, std::bit_cast<std::uint64_t>(d));
    cur_ = c + 9;
    return true;
  }
  bool put_string(const char* p, std::size_t n) noexcept {
    if (n <= kShortStrMax) {
      if (!reserve(1 + n)) return false;
      char* c = cur_;
      *c++ = static_cast<char>(kShortStr + n);
      for (std::size_t i = 0; i < n; ++i) c[i] = p[i];  // short: no memcpy call
      cur_ = c + n;
      return true;
    }
    return put_tag_varint(kStr, n) && put_raw(p, n);
  }
  bool put_raw(const void* p, std::size_t n) noexcept {
    if (n >= kLarge && static_cast<std::size_t>(lim_ - cur_) < n) return append_large(p, n);
    if (!reserve(n)) return false;
    if (n) std::memcpy(cur_, p, n);
    cur_ += n;
    return true;
  }

 private:
  static constexpr std::size_t kLocal = 256;
  static constexpr std::size_t kLarge = 1 << 16;

  char* at(std::size_t p) noexcept { return buf_ + (p - off_); }
  template <class U>
  static void store_le(char* c, U v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(c, &v, sizeof v);
    } else {
      for (std::size_t i = 0; i < sizeof v; ++i) c[i] = static_cast<char>(v >> (8 * i));
    }
  }
  static char* varint_at(char* c, std::uint64_t v) noexcept {
    while (v >= 0x80) {
      *c++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *c++ = static_cast<char>(v);
    return c;
  }

  // Leaves the inline buffer: its bytes go to the string, which becomes
  // the buffer from then on (off_ = 0).
  void spill() {
    if (buf_ != local_) return;
    s_->append(local_, static_cast<std::size_t>(cur_ - local_));
    off_ = 0;
    buf_ = s_->data();
    cur_ = lim_ = buf_ + s_->size();
  }
  [[gnu::noinline]] bool grow(std::size_t k) noexcept {
    std::size_t at = pos();
    std::size_t need = at + k;
    if (need < at) return false;
    try {
      spill();
      std::size_t cap = static_cast<std::size_t>(lim_ - buf_);
      std::size_t n = std::max({need, cap + cap / 2, std::size_t{512}});
      s_->resize(n);
      buf_ = s_->data();
      cur_ = buf_ + at;
      lim_ = buf_ + n;
    } catch (...) {
      return false;
    }
    return true;
  }
  // A big payload is appended exactly, without zero-filling it first.
  [[gnu::noinline]] bool append_large(const void* p, std::size_t n) noexcept {
    const std::size_t at = pos();
    try {
      spill();
    } catch (...) {
      return false;
    }
    s_->resize(at);  // drops bytes grown ahead; never allocates
    buf_ = s_->data();
    cur_ = lim_ = buf_ + at;
    try {
      s_->append(static_cast<const char*>(p), n);
    } catch (...) {
      return false;
    }
    buf_ = s_->data();
    cur_ = lim_ = buf_ + s_->size();
    return true;
  }

  std::string* s_;
  char* buf_;         // local_ or the string's data
  char* cur_;         // next byte to write
  char* lim_;         // end of buf_
  std::size_t off_;   // string position of buf_[0]
  char local_[kLocal];
};

// Every read is bounds-checked and returns false on truncated or malformed
// input.
struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* end;

  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end - p); }
  bool at_end() const noexcept { return p == end; }

  bool u8(std::uint8_t& out) noexcept {
    if (p == end) return false;
    out = *p++;
    return true;
  }
  bool varint(std::uint64_t& out) noexcept {
    std::uint64_t v = 0;
    for (int shift = 0; p != end && shift <= 63; shift += 7) {
      std::uint8_t b = *p++;
      if (shift == 63 && b > 1) return false;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        out = v;
        return true;
      }
    }
    return false;
  }
  bool u32(std::uint32_t& out) noexcept {
    if (remaining() < 4) return false;
    out = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
          static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
    p += 4;
    return true;
  }
  bool f64(double& out) noexcept {
    if (remaining() < 8) return false;
    std::uint64_t bits = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&bits, p, 8);
    } else {
      for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    }
    out = std::bit_cast<double>(bits);
    p += 8;
    return true;
  }
  bool bytes(std::size_t n, const char*& out) noexcept {
    if (remaining() < n) return false;
    out = reinterpret_cast<const char*>(p);
    p += n;
    return true;
  }
  // A string value's bytes (short or long form) without pushing it.
  bool string(const char*& s, std::size_t& n) noexcept {
    std::uint8_t t;
    if (!u8(t)) return false;
    if (t >= kShortStr && t <= kShortStr + kShortStrMax) {
      n = t - kShortStr;
    } else {
      std::uint64_t len;
      if (t != kStr || !varint(len) || len > remaining()) return false;
      n = static_cast<std::size_t>(len);
    }
    return bytes(n, s);
  }
};

// Map from pointers (never null) to a small record: a linear scan over the
// first few entries (no set-up cost for the usual handful of tables), then
// an open-addressing hash table on the heap.
struct PtrEntry {
  const void* key;
  std::size_t pos;     // offset of the object's tag in the message
  std::uint32_t id;    // the object's id
  std::uint32_t aux;   // upvalue index (upvalue map)
};

class PtrMap {
 public:
  PtrMap() = default;
  PtrMap(const PtrMap&) = delete;
  PtrMap& operator=(const PtrMap&) = delete;

  PtrEntry* find(const void* key) noexcept {
    if (!slots_) {
      for (std::size_t i = 0; i < size_; ++i)
        if (small_[i].key == key) return &small_[i];
      return nullptr;
    }
    for (std::size_t i = slot(key);; i = (i + 1) & (cap_ - 1)) {
      if (slots_[i].key == key) return &slots_[i];
      if (!slots_[i].key) return nullptr;
    }
  }
  // `key` must be absent. Returns nullptr when out of memory.
  PtrEntry* insert(const void* key) noexcept {
    if (!slots_ && size_ < kSmall) {
      small_[size_].key = key;
      return &small_[size_++];
    }
    if ((size_ + 1) * 2 > cap_ && !rehash(cap_ ? cap_ * 2 : 4 * kSmall)) return nullptr;
    PtrEntry* e = probe(key);
    e->key = key;
    ++size_;
    return e;
  }

 private:
  static constexpr std::size_t kSmall = 8;

  std::size_t slot(const void* key) const noexcept {
    std::uint64_t h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key));
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> 32) & (cap_ - 1);
  }
  PtrEntry* probe(const void* key) noexcept {
    std::size_t i = slot(key);
    while (slots_[i].key) i = (i + 1) & (cap_ - 1);
    return &slots_[i];
  }
  [[gnu::noinline]] bool rehash(std::size_t ncap) noexcept {
    std::unique_ptr<PtrEntry[]> heap(new (std::nothrow) PtrEntry[ncap]);
    if (!heap) return false;
    for (std::size_t i = 0; i < ncap; ++i) heap[i].key = nullptr;
    PtrEntry* old = slots_ ? slots_ : small_;
    std::size_t ocap = slots_ ? cap_ : size_;
    slots_ = heap.get();
    cap_ = ncap;
    for (std::size_t i = 0; i < ocap; ++i)
      if (old[i].key) *probe(old[i].key) = old[i];
    heap_.swap(heap);  // the old table (if any) is freed here
    return true;
  }

  PtrEntry small_[kSmall];
  std::unique_ptr<PtrEntry[]> heap_;
  PtrEntry* slots_ = nullptr;  // heap_ once past kSmall entries
  std::size_t cap_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tide::wire
