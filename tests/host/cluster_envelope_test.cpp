// tide.cluster's signed entries (host/cluster/envelope) and Redis URLs
// (host/cluster/redis_url), Lua-free: what open() accepts is exactly what
// seal() made with the same key, within the replay window; every changed
// byte, a wrong key, a cut entry, an old or future timestamp is refused
// with its verdict, before any field is read.
#include <doctest/doctest.h>

#include <string>

#include "cluster/envelope.hpp"
#include "cluster/redis_url.hpp"
#include "core/error.hpp"

using namespace tide;
using namespace tide::cluster;

namespace {

const std::string kKey = "0123456789abcdef-the-shared-key";

Entry a_task() {
  Entry e;
  e.kind = EntryKind::Task;
  e.lua = "Lua 5.4";
  e.arch = local_arch();
  e.client = "host:1:abc";
  e.task = 42;
  e.reply = "tide:{q}:results:host:1:abc";
  e.max_deliveries = 3;
  e.cacheable = true;
  e.nargs = 2;
  e.fn = std::string("fn\0bytes", 8);
  e.args = "args";
  return e;
}

}  // namespace

TEST_CASE("a sealed task opens with the same key, every field intact") {
  Entry e = a_task();
  std::string sealed = seal(e, kKey);
  CHECK(e.nonce.size() == kNonceSize);
  Entry out;
  std::string why;
  REQUIRE(open(sealed, kKey, unix_ms(), out, why) == Verdict::Ok);
  CHECK(out.kind == EntryKind::Task);
  CHECK(out.timestamp_ms == e.timestamp_ms);
  CHECK(out.nonce == e.nonce);
  CHECK(out.lua == "Lua 5.4");
  CHECK(out.arch == local_arch());
  CHECK(out.client == e.client);
  CHECK(out.task == 42);
  CHECK(out.reply == e.reply);
  CHECK(out.max_deliveries == 3);
  CHECK(out.cacheable);
  CHECK(out.nargs == 2);
  CHECK(out.fn == e.fn);
  CHECK(out.args == "args");
}

TEST_CASE("a sealed result keeps its outcome") {
  Entry e;
  e.kind = EntryKind::Result;
  e.lua = "Lua 5.4";
  e.arch = local_arch();
  e.client = "c";
  e.task = 7;
  e.outcome.state = CompletionState::Failed;
  e.outcome.failure_kind = ErrorKind::WorkerDied;
  e.outcome.text = "failed: gone";
  e.outcome.traceback = "tb";
  e.outcome.worker = "w:1:0";
  std::string sealed = seal(e, kKey);
  Entry out;
  std::string why;
  REQUIRE(open(sealed, kKey, unix_ms(), out, why) == Verdict::Ok);
  CHECK(out.kind == EntryKind::Result);
  CHECK(out.outcome.state == CompletionState::Failed);
  CHECK(out.outcome.failure_kind == ErrorKind::WorkerDied);
  CHECK(out.outcome.text == "failed: gone");
  CHECK(out.outcome.traceback == "tb");
  CHECK(out.outcome.worker == "w:1:0");
}

TEST_CASE("two seals of one entry differ (nonce), and both open") {
  Entry a = a_task(), b = a_task();
  std::string sa = seal(a, kKey), sb = seal(b, kKey);
  CHECK(sa != sb);
  CHECK(a.nonce != b.nonce);
}

TEST_CASE("every changed byte is refused: forged, or unsigned when the magic is gone") {
  Entry e = a_task();
  std::string sealed = seal(e, kKey);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    Entry out;
    std::string why;
    Verdict v = open(bad, kKey, unix_ms(), out, why);
    CAPTURE(i);
    if (i < 2) {
      CHECK(v == Verdict::Unsigned);
    } else {
      CHECK(v == Verdict::Forged);
      CHECK(why == "its signature does not match the shared key");
    }
    CHECK(out.fn.empty());  // nothing was parsed
  }
}

TEST_CASE("a wrong key, a cut entry and bytes that were never sealed are refused") {
  Entry e = a_task();
  std::string sealed = seal(e, kKey);
  Entry out;
  std::string why;
  CHECK(open(sealed, "another-key-0123456789", unix_ms(), out, why) == Verdict::Forged);
  CHECK(open(sealed.substr(0, sealed.size() - 1), kKey, unix_ms(), out, why) == Verdict::Forged);
  CHECK(open(sealed.substr(0, 20), kKey, unix_ms(), out, why) == Verdict::Unsigned);
  CHECK(why == "not a signed tide entry");
  CHECK(open("", kKey, unix_ms(), out, why) == Verdict::Unsigned);
  CHECK(open("print('hello')", kKey, unix_ms(), out, why) == Verdict::Unsigned);
}

TEST_CASE("an entry outside the replay window is refused as expired; clock skew is tolerated") {
  Entry e = a_task();
  std::string sealed = seal(e, kKey);
  Entry out;
  std::string why;
  CHECK(open(sealed, kKey, e.timestamp_ms + kReplayWindowMs + 1, out, why) == Verdict::Expired);
  CHECK(why.find("outside the replay window") != std::string::npos);
  CHECK(open(sealed, kKey, e.timestamp_ms - kClockSkewMs - 1, out, why) == Verdict::Expired);
  CHECK(open(sealed, kKey, e.timestamp_ms - kClockSkewMs + 1000, out, why) == Verdict::Ok);
  CHECK(open(sealed, kKey, e.timestamp_ms + kReplayWindowMs - 1000, out, why) == Verdict::Ok);
}

TEST_CASE("check_runtime names both sides of a mismatch") {
  Entry e = a_task();
  CHECK(check_runtime(e, "Lua 5.4", "its task").empty());
  e.arch = "sparc-be32";
  std::string m = check_runtime(e, "Lua 5.4", "its task");
  CHECK(m == "its task from Lua 5.4 on sparc-be32 cannot be read by Lua 5.4 on " + local_arch() +
                 " (values cross only between the same Lua version and architecture)");
  e.arch = local_arch();
  e.lua = "Lua 5.5";
  CHECK(check_runtime(e, "Lua 5.4", "its result").find("from Lua 5.5 on") != std::string::npos);
}

TEST_CASE("Redis URLs: host, port, db, credentials (percent-encoded), IPv6") {
  RedisUrl u = RedisUrl::parse("redis://localhost");
  CHECK(u.host == "localhost");
  CHECK(u.port == 6379);
  CHECK(u.db == 0);
  CHECK(u.user.empty());
  CHECK(u.password.empty());
  u = RedisUrl::parse("redis://alice:p%40ss%3Aw@10.0.0.1:6380/2");
  CHECK(u.user == "alice");
  CHECK(u.password == "p@ss:w");
  CHECK(u.host == "10.0.0.1");
  CHECK(u.port == 6380);
  CHECK(u.db == 2);
  CHECK(u.where() == "10.0.0.1:6380/2");
  u = RedisUrl::parse("redis://secret@h");
  CHECK(u.user.empty());
  CHECK(u.password == "secret");
  u = RedisUrl::parse("redis://[::1]:7000");
  CHECK(u.host == "::1");
  CHECK(u.port == 7000);
  CHECK(u.where() == "[::1]:7000");
}

TEST_CASE("bad Redis URLs are ArgumentErrors that never repeat the password") {
  for (const char* bad : {"http://h", "redis://", "redis://:6379", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h/db", "redis://[::1", "redis://u:p%4@h", "redis://u:p%zz@h"}) {
    CAPTURE(bad);
    try {
      RedisUrl::parse(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::ArgumentError);
      CHECK(std::string(e.what()).find("bad Redis URL") != std::string::npos);
    }
  }
  try {
    RedisUrl::parse("redis://u:hunter2@h:99999");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}
