// The shared-memory lane of a Pipe() (host/pipe/lane.hpp) on its own:
// entries of every size wrap around the ring whole and in order, a full
// lane and a pending socket frame refuse a put, and an armed wake-up is
// requested exactly once.
#include <doctest/doctest.h>

#include <string>

#include "pipe/lane.hpp"

using namespace tide;
using namespace tide::pipe;

namespace {

// Owns one lane for a test.
struct TestLane {
  shm::Offset off = lane::create();
  ~TestLane() { lane::release(off); }
  lane::Lane& get() { return lane::at(off); }
};

std::string payload(int i) { return std::string(static_cast<std::size_t>(i * 37 % 5000), static_cast<char>('a' + i % 26)); }

}  // namespace

TEST_CASE("pipe lane: entries of every size wrap around whole and in order") {
  TestLane t;
  lane::Lane& l = t.get();
  int put = 0, taken = 0;
  std::string got;
  while (taken < 3000) {
    // fill until refused, then drain part of it: head and tail wrap often
    while (put < 3000 && lane::put(l, FrameKind::Bytes, 1, payload(put))) ++put;
    REQUIRE(lane::nonempty(l));
    for (int k = 0; k < 3 && lane::nonempty(l); ++k, ++taken) {
      lane::Entry e = lane::front(l);
      CHECK(e.kind == FrameKind::Bytes);
      CHECK(e.length == payload(taken).size());
      lane::take(l, got);
      REQUIRE(got == payload(taken));
    }
  }
  CHECK(!lane::nonempty(l));
}

TEST_CASE("pipe lane: too big, full, or behind a socket frame: the put is refused and nothing changes") {
  TestLane t;
  lane::Lane& l = t.get();
  CHECK(!lane::put(l, FrameKind::Bytes, 1, std::string(17 * 1024, 'x')));
  CHECK(!lane::nonempty(l));
  int n = 0;
  while (lane::put(l, FrameKind::Value, 2, std::string(1000, 'v'))) ++n;
  CHECK(n == 64 * 1024 / (16 + 1000));  // header + padded payload per entry
  std::string got;
  lane::take(l, got);
  CHECK(lane::put(l, FrameKind::Value, 2, "room again"));

  TestLane t2;
  lane::Lane& s = t2.get();
  lane::socket_frame_sending(s);
  CHECK(lane::socket_pending(s));
  CHECK(!lane::put(s, FrameKind::Bytes, 1, "after a socket frame"));
  lane::socket_frame_taken(s);
  CHECK(!lane::socket_pending(s));
  CHECK(lane::put(s, FrameKind::Bytes, 1, "now"));
  lane::socket_frame_sending(s);
  lane::socket_frame_unsent(s);  // nothing of it was written
  CHECK(lane::put(s, FrameKind::Bytes, 1, "still"));
}

TEST_CASE("pipe lane: an armed wake-up is requested once; none unarmed") {
  TestLane t;
  lane::Lane& l = t.get();
  CHECK(!lane::wake_requested(l));
  lane::arm(l);
  lane::arm(l);
  CHECK(lane::wake_requested(l));
  CHECK(!lane::wake_requested(l));
}

// (Whether it is due in between depends on the clock: not checked.)
TEST_CASE("pipe lane: the reader check is due at first and after a close of the reader") {
  TestLane t;
  lane::Lane& l = t.get();
  CHECK(lane::peer_check_due(l));
  lane::peer_checked(l);
  lane::reader_closes(l).fetch_add(1);
  CHECK(lane::peer_check_due(l));
}
