// Unit tests of tide.future's native core (host/future/): the state
// machine, the pool-facing C++ API, completion from other threads, the
// multi-future wait, and 100,000 futures without leaking arena memory.
// Threads are ordered with futures and joins, never with sleeps.
#include <doctest/doctest.h>
#include <lua.hpp>

#include <thread>
#include <vector>

#include "codec/codec.hpp"
#include "core/error.hpp"
#include "future/future.hpp"
#include "shm/arena.hpp"
#include "test_util.hpp"

using tide::CompletionState;
using tide::Deadline;
using tide::ErrorKind;
using tide::Outcome;
using tide::Ref;
using tide::future::Future;

namespace {


Outcome ints(std::initializer_list<lua_Integer> values) {
  lua_State* L = luaL_newstate();
  for (lua_Integer v : values) lua_pushinteger(L, v);
  Outcome o;
  tide::codec::encode(L, 1, static_cast<int>(values.size()), o.values);
  lua_close(L);
  return o;
}

lua_Integer first_int(const Outcome& o) {
  lua_State* L = luaL_newstate();
  tide::codec::decode(L, o.values);
  lua_Integer v = lua_tointeger(L, 1);
  lua_close(L);
  return v;
}

Outcome failure(const char* text) {
  Outcome o{CompletionState::Failed, {}, text, "traceback"};
  o.failure_kind = ErrorKind::WorkerDied;
  return o;
}

}  // namespace

TEST_SUITE("future") {

TEST_CASE("states: pending, running, completed once; cancel only while pending") {
  auto f = Future::create();
  CHECK(f->state() == CompletionState::Pending);
  CHECK(f->set_running_or_notify_cancel());
  CHECK(f->running());
  CHECK_FALSE(f->cancel());
  CHECK_THROWS_AS(f->set_running_or_notify_cancel(), tide::Error);
  CHECK(f->complete(ints({7, 8})));
  CHECK(f->done());
  CHECK_FALSE(f->complete(ints({9})));
  Outcome o = f->outcome();
  CHECK(o.state == CompletionState::Completed);
  CHECK(o.values.count == 2);
  CHECK(first_int(o) == 7);
  CHECK(f->done_stamp() > 0);
}

TEST_CASE("cancel: a cancelled future is not started by a pool and cannot complete") {
  auto f = Future::create();
  CHECK(f->cancel());
  CHECK(f->cancelled());
  CHECK(f->cancel());  // as Python's: a cancelled future reports true again
  CHECK_FALSE(f->set_running_or_notify_cancel());
  CHECK_FALSE(f->complete(ints({1})));
  CHECK(f->wait(Deadline::never()));
}

TEST_CASE("failure info: kind, text and traceback survive") {
  auto f = Future::create();
  CHECK(f->complete(failure("exit code 3")));
  Outcome o = f->outcome();
  CHECK(o.state == CompletionState::Failed);
  CHECK(o.failure_kind == ErrorKind::WorkerDied);
  CHECK(o.text == "exit code 3");
  CHECK(o.traceback == "traceback");
  Outcome bad;
  bad.state = CompletionState::Cancelled;
  CHECK_THROWS_AS(Future::create()->complete(bad), tide::Error);
}

TEST_CASE("wait times out on a pending future; completion from another thread wakes it") {
  auto f = Future::create();
  CHECK_FALSE(f->wait(Deadline::after(0)));
  CHECK_FALSE(f->wait(Deadline::after(0.01)));
  std::thread t([&] { f->complete(ints({42})); });
  CHECK(f->wait(Deadline::never()));
  t.join();
  CHECK(first_int(f->outcome()) == 42);
}

TEST_CASE("racing completers: exactly one wins") {
  for (int round = 0; round < 50; ++round) {
    auto f = Future::create();
    std::atomic<int> wins{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
      ts.emplace_back([&, i] {
        if (i == 3 ? f->cancel() : f->complete(ints({i}))) wins.fetch_add(1);
      });
    for (auto& t : ts) t.join();
    CHECK(wins.load() == 1);
    CHECK(f->done());
  }
}

TEST_CASE("wait_many: woken by completions from another thread, in stamp order") {
  std::vector<Ref<Future>> refs;
  std::vector<Future*> futs;
  for (int i = 0; i < 8; ++i) {
    refs.push_back(Future::create());
    futs.push_back(refs.back().get());
  }
  std::thread t([&] {
    for (int i = 7; i >= 0; --i) futs[i]->complete(ints({i}));
  });
  CHECK(Future::wait_many(futs, Deadline::never(), [&] {
    for (Future* f : futs)
      if (!f->done()) return false;
    return true;
  }));
  t.join();
  for (int i = 0; i < 7; ++i) CHECK(futs[i]->done_stamp() > futs[i + 1]->done_stamp());
  CHECK_FALSE(Future::wait_many(futs, Deadline::after(0), [] { return false; }));
}

TEST_CASE("results: kept in the future up to kInlineResult bytes, stored beyond; read back alike") {
  using tide::future::kInlineResult;
  Future::create();  // the process tree's FutureTree exists from here on
  tide::shm::Arena& arena = tide::shm::Arena::get();
  for (std::size_t n : {std::size_t(0), std::size_t(3), kInlineResult, kInlineResult + 1, std::size_t(4000)}) {
    CAPTURE(n);
    auto f = Future::create();
    std::int64_t before = arena.bytes_in_use();
    Outcome o;
    o.values.bytes.assign(n, 'r');
    o.values.count = 2;
    CHECK(f->complete(o));
    // Inline: the future's own block holds it, nothing more is allocated.
    CHECK((arena.bytes_in_use() == before) == (n <= kInlineResult));
    Outcome back = f->outcome();
    CHECK(back.values.bytes == o.values.bytes);
    CHECK(back.values.count == 2);
    CHECK(back.values.objects.empty());
  }
}

TEST_CASE("results: a corrupt inline size from another completer is a TransferError, not a read past it") {
  auto f = Future::create();
  REQUIRE(f->complete(ints({7})));
  CHECK(first_int(f->outcome()) == 7);
  f->data().inline_size = tide::future::kInlineResult + 1;
  CHECK_THROWS_WITH_AS(f->outcome(), doctest::Contains("corrupt"), tide::Error);
}

constexpr int kManyFutures = test_util::kSanitized ? 20000 : 100000;
TEST_CASE("100,000 futures (20,000 under sanitizers): created, completed, dropped; no arena memory leaks") {
  Future::create();  // the process tree's FutureTree exists from here on
  std::int64_t before = tide::shm::Arena::get().bytes_in_use();
  Outcome one = ints({1});
  for (int i = 0; i < kManyFutures; ++i) {
    auto f = Future::create();
    if (i % 3 == 0)
      f->cancel();
    else if (i % 3 == 1)
      f->complete(one);
    else
      f->complete(failure("x"));
  }
  CHECK(tide::shm::Arena::get().bytes_in_use() == before);
}

}  // TEST_SUITE
