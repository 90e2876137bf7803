// Unit tests of the pool's shared part (host/pool/pool_data.*): the task
// FIFO in the arena, the stop flags and the worker slots through which a
// supervisor finds the task of a worker process that died, including one
// that died inside take()'s critical section. Worker deaths are real: a
// fork child that stops at the chosen point with _exit.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "pool/pool_data.hpp"
#include "test_util.hpp"

namespace {

using tide::pool::kBroken;
using tide::pool::kShutdown;
using tide::pool::kTerminate;
using tide::pool::PoolShared;
using tide::pool::SlotState;
using tide::pool::TaskRecord;

// A record that carries only an id (in `args`): the shared part never
// looks inside records.
TaskRecord rec(std::uint64_t id) {
  TaskRecord r;
  r.args = id;
  r.local = 1;
  return r;
}

tide::Ref<PoolShared> make(int slots) {
  return PoolShared::create(slots, 0);
}

// Runs `body` in a fork child that then exits at once (a dead worker).
template <class F>
void in_dying_child(F body) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    _exit(0);
  }
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
}

}  // namespace

TEST_SUITE("pool_data") {

TEST_CASE("records come out in FIFO order across ring growth") {
  auto p = make(1);
  std::uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) REQUIRE(p->push(rec(next_in++)) == PoolShared::Pushed::Ok);
    for (int i = 0; i < 60; ++i) {
      std::optional<TaskRecord> r = p->take(0);
      REQUIRE(r);
      CHECK(r->args == next_out++);
      p->release_held(0);
    }
  }
  CHECK(p->data().queued.load() == next_in - next_out);
  std::vector<TaskRecord> left = p->stop(kShutdown, true);
  CHECK(left.size() == next_in - next_out);
  CHECK(left.front().args == next_out);
  CHECK(p->queue_empty());
}

TEST_CASE("shutdown lets workers drain the queue, then stops them; terminate stops them at once") {
  auto p = make(0);
  p->push(rec(1));
  p->push(rec(2));
  p->stop(kShutdown, false);
  CHECK(p->push(rec(3)) == PoolShared::Pushed::Shutdown);
  CHECK(p->push(rec(3), true) == PoolShared::Pushed::Ok);  // a task run again
  CHECK(p->take(-1)->args == 1);
  CHECK(p->take(-1)->args == 2);
  CHECK(p->take(-1)->args == 3);
  CHECK_FALSE(p->take(-1));
  auto q = make(0);
  q->push(rec(1));
  q->stop(kTerminate, false);
  CHECK_FALSE(q->take(-1));
  CHECK(q->push(rec(2), true) == PoolShared::Pushed::Shutdown);
  auto b = make(0);
  b->stop(kBroken, true);
  CHECK(b->push(rec(1)) == PoolShared::Pushed::Broken);
}

TEST_CASE("an idle worker sleeping in take wakes for a push and for stop") {
  auto p = make(0);
  std::optional<TaskRecord> got;
  std::thread t([&] { got = p->take(-1); });
  REQUIRE(test_util::await_waiters(p->data().work.word, 1));
  p->push(rec(7));
  t.join();
  REQUIRE(got);
  CHECK(got->args == 7);
  std::thread u([&] { got = p->take(-1); });
  REQUIRE(test_util::await_waiters(p->data().work.word, 1));
  p->stop(kShutdown, false);
  u.join();
  CHECK_FALSE(got);
}

TEST_CASE("a worker's slot holds the record it took until it lets go") {
  auto p = make(2);
  p->push(rec(1));
  p->push(rec(2));
  REQUIRE(p->take(1)->args == 1);
  CHECK(static_cast<SlotState>(p->slot(1).state.load()) == SlotState::Busy);
  std::uint64_t seq = p->slot(1).task_seq.load();
  p->release_held(1);
  CHECK(static_cast<SlotState>(p->slot(1).state.load()) == SlotState::Idle);
  CHECK_FALSE(p->recover(1));
  REQUIRE(p->take(1)->args == 2);
  CHECK(p->slot(1).task_seq.load() == seq + 1);
}

TEST_CASE("the task of a worker process that died holding it is recovered once") {
  auto p = make(2);
  p->push(rec(11));
  p->push(rec(12));
  in_dying_child([&] { p->take(0); });  // takes 11 and dies with it
  std::optional<TaskRecord> r = p->recover(0);
  REQUIRE(r);
  CHECK(r->args == 11);
  CHECK_FALSE(p->recover(0));
  CHECK(p->take(1)->args == 12);  // the queue is intact
}

TEST_CASE("a worker that died inside take's critical section leaves the record queued") {
  auto p = make(2);
  p->push(rec(21));
  p->push(rec(22));
  // The child does take's stores up to (not including) the commit, holding
  // the lock, and dies: the lock's next holder repairs the slot.
  in_dying_child([&] {
    auto& d = p->data();
    d.m.lock();
    auto& s = p->slot(0);
    s.current = rec(21);
    s.pos = d.head.load();
    s.holding = 1;
  });
  CHECK(p->take(1)->args == 21);  // still queued, taken once
  CHECK_FALSE(p->recover(0));     // not the dead worker's
  p->release_held(1);
  CHECK(p->take(1)->args == 22);
}

}  // TEST_SUITE
