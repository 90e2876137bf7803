#include "cluster/envelope.hpp"

#include <sys/random.h>

#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "process/hmac.hpp"
#include "wire/wire.hpp"

namespace tide::cluster {

namespace {

constexpr char kMagic0 = 'T', kMagic1 = 'C';
constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kHeader = 2 + 1 + 1 + 8 + kNonceSize;

// Completion states on the wire (not the enum's values, which may change).
enum : std::uint8_t { kCompleted = 1, kFailed = 2, kCancelled = 3 };

void put_str(wire::Writer& w, std::string_view s) {
  if (!w.put_varint(s.size()) || !w.put_raw(s.data(), s.size())) throw std::bad_alloc();
}
void put_var(wire::Writer& w, std::uint64_t v) {
  if (!w.put_varint(v)) throw std::bad_alloc();
}
void put_byte(wire::Writer& w, std::uint8_t b) {
  if (!w.put_u8(b)) throw std::bad_alloc();
}

bool get_str(wire::Reader& r, std::string& out) {
  std::uint64_t n;
  const char* p;
  if (!r.varint(n) || n > r.remaining() || !r.bytes(static_cast<std::size_t>(n), p)) return false;
  out.assign(p, static_cast<std::size_t>(n));
  return true;
}
bool get_u32(wire::Reader& r, std::uint32_t& out) {
  std::uint64_t v;
  if (!r.varint(v) || v > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

std::uint8_t state_code(CompletionState s) {
  switch (s) {
    case CompletionState::Completed: return kCompleted;
    case CompletionState::Cancelled: return kCancelled;
    default: return kFailed;
  }
}

bool parse_fields(wire::Reader& r, Entry& e) {
  std::uint64_t task;
  if (!get_str(r, e.lua) || !get_str(r, e.arch) || !get_str(r, e.client) || !r.varint(task)) return false;
  e.task = task;
  if (e.kind == EntryKind::Task) {
    std::uint8_t cacheable;
    if (!get_str(r, e.reply) || !get_u32(r, e.max_deliveries) || !r.u8(cacheable) || cacheable > 1 ||
        !get_u32(r, e.nargs) || !get_str(r, e.fn) || !get_str(r, e.args))
      return false;
    e.cacheable = cacheable != 0;
    return r.at_end();
  }
  std::uint8_t state;
  std::string kind;
  std::uint32_t nvalues;
  Outcome& o = e.outcome;
  if (!r.u8(state) || !get_str(r, kind) || !get_str(r, o.text) || !get_str(r, o.traceback) ||
      !get_str(r, o.worker) || !get_u32(r, nvalues) || !get_str(r, o.values.bytes))
    return false;
  switch (state) {
    case kCompleted: o.state = CompletionState::Completed; break;
    case kFailed: o.state = CompletionState::Failed; break;
    case kCancelled: o.state = CompletionState::Cancelled; break;
    default: return false;
  }
  if (!kind_from_name(kind, o.failure_kind)) o.failure_kind = ErrorKind::RemoteError;
  if (nvalues > INT32_MAX) return false;
  o.values.count = static_cast<int>(nvalues);
  return r.at_end();
}

}  // namespace

std::int64_t unix_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out.data() + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error("getrandom", errno);
    }
    got += static_cast<std::size_t>(r);
  }
  return out;
}

const std::string& local_arch() {
  static const std::string arch = [] {
    if (const char* o = std::getenv("TIDE_CLUSTER_ARCH"); o && *o) return std::string(o);
#if defined(__x86_64__)
    std::string cpu = "x86_64";
#elif defined(__aarch64__)
    std::string cpu = "aarch64";
#elif defined(__i386__)
    std::string cpu = "i386";
#elif defined(__arm__)
    std::string cpu = "arm";
#elif defined(__riscv)
    std::string cpu = "riscv";
#elif defined(__powerpc64__)
    std::string cpu = "ppc64";
#elif defined(__s390x__)
    std::string cpu = "s390x";
#else
    std::string cpu = "unknown";
#endif
    cpu += std::endian::native == std::endian::little ? "-le" : "-be";
    cpu += std::to_string(sizeof(void*) * 8);
    return cpu;
  }();
  return arch;
}

std::string check_runtime(const Entry& e, const std::string& my_lua, const char* what) {
  if (e.lua == my_lua && e.arch == local_arch()) return {};
  return std::string(what) + " from " + e.lua + " on " + e.arch + " cannot be read by " + my_lua + " on " +
         local_arch() + " (values cross only between the same Lua version and architecture)";
}

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::Ok: return "ok";
    case Verdict::Unsigned: return "unsigned";
    case Verdict::Forged: return "forged";
    case Verdict::Malformed: return "malformed";
    case Verdict::Expired: return "expired";
  }
  return "?";
}

std::string seal(Entry& e, std::string_view key) {
  e.timestamp_ms = unix_ms();
  e.nonce = random_bytes(kNonceSize);
  std::string out;
  {
    wire::Writer w(out);
    char head[kHeader];
    head[0] = kMagic0;
    head[1] = kMagic1;
    head[2] = static_cast<char>(kFormat);
    head[3] = static_cast<char>(e.kind);
    std::uint64_t ts = static_cast<std::uint64_t>(e.timestamp_ms);
    for (int i = 0; i < 8; ++i) head[4 + i] = static_cast<char>(ts >> (8 * i));
    std::memcpy(head + 12, e.nonce.data(), kNonceSize);
    if (!w.put_raw(head, kHeader)) throw std::bad_alloc();
    put_str(w, e.lua);
    put_str(w, e.arch);
    put_str(w, e.client);
    put_var(w, e.task);
    if (e.kind == EntryKind::Task) {
      put_str(w, e.reply);
      put_var(w, e.max_deliveries);
      put_byte(w, e.cacheable ? 1 : 0);
      put_var(w, e.nargs);
      put_str(w, e.fn);
      put_str(w, e.args);
    } else {
      const Outcome& o = e.outcome;
      put_byte(w, state_code(o.state));
      put_str(w, kind_name(o.failure_kind));
      put_str(w, o.text);
      put_str(w, o.traceback);
      put_str(w, o.worker);
      put_var(w, static_cast<std::uint64_t>(o.values.count));
      put_str(w, o.values.bytes);
    }
    w.finish();
  }
  process::Digest mac = process::hmac_sha256(key, out);
  out.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return out;
}

Verdict open(std::string_view bytes, std::string_view key, std::int64_t now_ms, Entry& out, std::string& why) {
  if (bytes.size() < kHeader + kMacSize || bytes[0] != kMagic0 || bytes[1] != kMagic1) {
    why = "not a signed tide entry";
    return Verdict::Unsigned;
  }
  std::string_view body = bytes.substr(0, bytes.size() - kMacSize);
  process::Digest mac = process::hmac_sha256(key, body);
  process::Digest given;
  std::memcpy(given.data(), bytes.data() + body.size(), kMacSize);
  if (!process::digest_equal(mac, given)) {
    why = "its signature does not match the shared key";
    return Verdict::Forged;
  }
  // Authentic from here on: a failure below is a bug or another version.
  auto* p = reinterpret_cast<const std::uint8_t*>(body.data());
  if (p[2] != kFormat || (p[3] != 1 && p[3] != 2)) {
    why = "unknown entry format " + std::to_string(p[2]) + "/" + std::to_string(p[3]);
    return Verdict::Malformed;
  }
  out = Entry{};
  out.kind = static_cast<EntryKind>(p[3]);
  std::uint64_t ts = 0;
  for (int i = 0; i < 8; ++i) ts |= static_cast<std::uint64_t>(p[4 + i]) << (8 * i);
  out.timestamp_ms = static_cast<std::int64_t>(ts);
  out.nonce.assign(body.data() + 12, kNonceSize);
  wire::Reader r{p + kHeader, p + body.size()};
  if (!parse_fields(r, out)) {
    why = "its fields are malformed";
    return Verdict::Malformed;
  }
  if (out.timestamp_ms < now_ms - kReplayWindowMs || out.timestamp_ms > now_ms + kClockSkewMs) {
    why = "its timestamp is outside the replay window (" + std::to_string((now_ms - out.timestamp_ms) / 1000) +
          " s old)";
    return Verdict::Expired;
  }
  return Verdict::Ok;
}

}  // namespace tide::cluster
