// The tide.pipe frame layer (host/pipe/frame.hpp) on byte buffers, and a
// Connection pair driven from C++ (no Lua): framing, partial input,
// corruption, the maxlen and bytes-only checks that leave a message.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "pipe/connection.hpp"
#include "pipe/frame.hpp"
#include "test_util.hpp"

using namespace tide;
using namespace tide::pipe;

namespace {

std::string frame(FrameKind kind, std::uint32_t count, std::string_view payload) {
  FrameHeader h = make_header(kind, count, payload);
  std::string s(reinterpret_cast<const char*>(&h), kHeaderSize);
  s.append(payload);
  return s;
}

}  // namespace

TEST_CASE("pipe frames: a frame parses back; every proper prefix needs more") {
  std::string f = frame(FrameKind::Bytes, 1, "hello, frames");
  ParsedFrame out;
  REQUIRE(parse_frame(f.data(), f.size(), out) == Parse::Frame);
  CHECK(out.kind == FrameKind::Bytes);
  CHECK(out.total == f.size());
  CHECK(std::string(out.payload, out.length) == "hello, frames");
  for (std::size_t n = 0; n < f.size(); ++n) {
    CHECK(parse_frame(f.data(), n, out) == Parse::NeedMore);
    if (n >= kHeaderSize) CHECK(out.total == f.size());  // known once the header is in
  }
  // two frames back to back: the first is parsed alone
  std::string two = f + frame(FrameKind::Value, 3, "abc");
  REQUIRE(parse_frame(two.data(), two.size(), out) == Parse::Frame);
  REQUIRE(parse_frame(two.data() + out.total, two.size() - out.total, out) == Parse::Frame);
  CHECK(out.count == 3);
}

TEST_CASE("pipe frames: garbage is rejected from its first wrong byte") {
  ParsedFrame out;
  CHECK(parse_frame("x", 1, out) == Parse::Corrupt);
  CHECK(parse_frame("TDPx", 4, out) == Parse::Corrupt);
  CHECK(parse_frame("TD", 2, out) == Parse::NeedMore);
}

TEST_CASE("pipe frames: any flipped bit is Corrupt") {
  std::string f = frame(FrameKind::Value, 2, std::string(100, 'v'));
  for (std::size_t i = 0; i < f.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string g = f;
      g[i] = static_cast<char>(g[i] ^ (1 << bit));
      ParsedFrame out;
      Parse p = parse_frame(g.data(), g.size(), out);
      // a flipped length can only make the frame look longer or shorter;
      // either way it is never accepted as this frame
      if (p == Parse::Frame) FAIL("flipped byte ", i, " bit ", bit, " accepted");
    }
}

TEST_CASE("pipe frames: header limits and kind rules") {
  auto parse = [](FrameKind kind, std::uint32_t count, std::string_view payload) {
    std::string f = frame(kind, count, payload);
    ParsedFrame out;
    return parse_frame(f.data(), f.size(), out);
  };
  CHECK(parse(static_cast<FrameKind>(9), 1, "x") == Parse::Corrupt);
  CHECK(parse(FrameKind::Bytes, 2, "x") == Parse::Corrupt);
  CHECK(parse(FrameKind::Ticket, 1, "1234") == Parse::Corrupt);
  CHECK(parse(FrameKind::Ticket, 1, "12345678") == Parse::Frame);
  CHECK(parse(FrameKind::Wake, 0, "") == Parse::Frame);
  CHECK(parse(FrameKind::Wake, 0, "x") == Parse::Corrupt);
  CHECK(parse(FrameKind::Wake, 1, "") == Parse::Corrupt);
}

TEST_CASE("pipe connections: frames through a socketpair, maxlen and bytes-only leave the message") {
  auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
  auto& a = pair.first;
  auto& b = pair.second;
  a->send_frame(FrameKind::Bytes, 1, "0123456789");
  Received r;
  CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never(), 4, true); }) == ErrorKind::TransferError);
  REQUIRE(b->recv(r, Deadline::never(), 10, true));
  CHECK(r.payload == "0123456789");
  a->send_frame(FrameKind::Value, 1, "codec");
  CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never(), kMaxPayload, true); }) ==
        ErrorKind::TransferError);
  REQUIRE(b->recv(r, Deadline::never()));
  CHECK(r.kind == FrameKind::Value);
  CHECK(!b->recv(r, Deadline::after(0)));  // nothing left: timeout
  CHECK(!b->poll(Deadline::after(0)));
}

TEST_CASE("pipe connections: a stream of small frames arrives whole and in order") {
  auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
  auto& a = pair.first;
  auto& b = pair.second;
  constexpr int kN = 20000;
  std::thread sender([&, a = a] {
    for (int i = 0; i < kN; ++i) a->send_frame(FrameKind::Bytes, 1, std::to_string(i));
    a->close();
  });
  Received r;
  for (int i = 0; i < kN; ++i) {
    REQUIRE(b->recv(r, Deadline::never()));
    REQUIRE(r.payload == std::to_string(i));
  }
  CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never()); }) == ErrorKind::Closed);
  sender.join();
}

TEST_CASE("pipe connections: garbage closes the receiving connection; a closed one is InvalidState") {
  auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
  auto& a = pair.first;
  auto& b = pair.second;
  REQUIRE(write(a->fileno(), "garbage!", 8) == 8);
  Received r;
  CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never()); }) == ErrorKind::TransferError);
  CHECK(b->closed());
  CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never()); }) == ErrorKind::InvalidState);
  a->close();
  a->close();
  CHECK(test_util::thrown_kind([&] { a->send_frame(FrameKind::Bytes, 1, "x"); }) == ErrorKind::InvalidState);
}

TEST_CASE("pipe connections: descriptors_of lists the connections' descriptors") {
  auto [a, b] = Connection::create_pair(false);
  (void)a;
  Message m;
  m.objects.push_back(Ref<Object>::share(b.get()));
  auto fds = descriptors_of(m);
  REQUIRE(fds.size() == 1);
  CHECK(fds[0] == b->fileno());
}

TEST_CASE("pipe connections: nothing is left in the arena once both ends are gone") {
  auto& arena = shm::Arena::get();
  std::int64_t before = arena.bytes_in_use();
  {
    auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
    auto& a = pair.first;
    auto& b = pair.second;
    a->send_frame(FrameKind::Bytes, 1, std::string(100000, 'x'));
    Received r;
    REQUIRE(b->recv(r, Deadline::never()));
    a->send_frame(FrameKind::Bytes, 1, "left unread");
  }
  CHECK(arena.bytes_in_use() == before);
  {
    auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
    auto& a = pair.first;
    auto& b = pair.second;
    REQUIRE(write(a->fileno(), "garbage", 7) == 7);
    Received r;
    CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never()); }) == ErrorKind::TransferError);
  }
  CHECK(arena.bytes_in_use() == before);
  {
    auto pair = Connection::create_pair(true);  // named ends, not a structured binding: clang 14 cannot capture those
    auto& a = pair.first;
    auto& b = pair.second;
    a->close();
    Received r;
    CHECK(test_util::thrown_kind([&] { b->recv(r, Deadline::never()); }) == ErrorKind::Closed);
  }
  CHECK(arena.bytes_in_use() == before);
}
