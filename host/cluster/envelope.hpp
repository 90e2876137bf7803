// The signed entries of a cluster queue (Lua-free). Every task and result is
// one field "m" of a Redis Stream entry holding an envelope:
//
//   "TC" u8 version  u8 kind  u64le timestamp_ms  16-byte nonce
//   fields (varints; strings as varint length + bytes):
//     lua, arch, client, task id
//     task:   reply stream, max_deliveries, cacheable, nargs, fn bytes, args bytes
//     result: state, failure kind name, text, traceback, worker, nvalues, value bytes
//   32-byte HMAC-SHA256(key, everything before it)
//
// open() checks the MAC over the whole envelope before it reads a single
// field, so nothing an attacker wrote is ever parsed, let alone decoded or
// run; it then refuses envelopes whose timestamp lies outside the replay
// window. (The nonce is checked against what was seen before by the worker,
// in Redis; see worker.cpp.) `lua` and `arch` say what the codec bytes need
// to be read: values cross only between the same Lua version and
// architecture (bytecode is neither portable nor checked by Lua beyond its
// header), and check_runtime names both sides when they differ.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "thread/completion.hpp"

namespace tide::cluster {

inline constexpr std::size_t kMacSize = 32;
inline constexpr std::size_t kNonceSize = 16;
// An entry older than this (or sealed this far in the future of the
// reader's clock) is refused: the replay window. Nonces are remembered
// as long.
inline constexpr std::int64_t kReplayWindowMs = 24LL * 3600 * 1000;
inline constexpr std::int64_t kClockSkewMs = 5LL * 60 * 1000;

enum class EntryKind : std::uint8_t { Task = 1, Result = 2 };

struct Entry {
  EntryKind kind = EntryKind::Task;
  std::int64_t timestamp_ms = 0;  // unix time at sealing
  std::string nonce;              // kNonceSize random bytes
  std::string lua;                // "Lua 5.4"
  std::string arch;               // local_arch() of the sealer
  std::string client;             // the submitting pool's id
  std::uint64_t task = 0;         // the task's number within that pool
  // A task:
  std::string reply;              // the client's result stream
  std::uint32_t max_deliveries = 0;
  bool cacheable = false;         // fn's bytes are the same for every task of it
  std::string fn;                 // codec bytes: the function
  std::string args;               // codec bytes: nargs values
  std::uint32_t nargs = 0;
  // A result (values.objects stays empty: nothing local crosses):
  Outcome outcome;
};

// Fills timestamp and nonce, then returns the sealed envelope.
std::string seal(Entry& e, std::string_view key);

enum class Verdict { Ok, Unsigned, Forged, Malformed, Expired };
const char* verdict_name(Verdict v) noexcept;

// Authenticates then parses `bytes` into `out`; `why` says what was wrong.
Verdict open(std::string_view bytes, std::string_view key, std::int64_t now_ms, Entry& out, std::string& why);

// This machine's architecture as the codec sees it: "x86_64-le64".
// TIDE_CLUSTER_ARCH overrides it (to test a mixed cluster on one machine).
const std::string& local_arch();

// Empty when an entry sealed by (lua, arch) can be read here; otherwise
// the TransferError text, naming both sides: `what` is "task" or "result".
std::string check_runtime(const Entry& e, const std::string& my_lua, const char* what);

// Wall-clock milliseconds (timestamps cross machines, so not monotonic).
std::int64_t unix_ms() noexcept;
// Lowercase hex of bytes (nonces in keys and logs).
std::string hex(std::string_view bytes);
// `n` random bytes (getrandom).
std::string random_bytes(std::size_t n);

}  // namespace tide::cluster
