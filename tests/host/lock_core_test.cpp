// Unit tests of the lock core's spinning (host/sync/lock_core.cpp), the
// inline fast paths the bindings use (rlock_acquire_fast & co.) and the
// Value's own lock as Value:update takes it (issue 14).
//
// Outcomes only: a waiter that were starved by a holder re-taking the lock
// in a loop would hang the test (ctest's timeout), never a time assertion.
#include "sync_test_util.hpp"

using namespace sync_test;

TEST_SUITE("sync") {

TEST_CASE("LockCore: a waiter gets the lock while the holder re-takes it in a loop") {
  auto l = Lock::create();
  LockCore& core = l->data().core;
  std::atomic<bool> stop{false}, looping{false};
  std::thread holder([&] {
    std::uint64_t me = thread_owner();  // real tokens: a long wait checks them alive
    while (!stop.load()) {
      if (core.lock(me, kNever) == Acquire::Ok) {
        looping.store(true);
        core.unlock();
      }
    }
    tide::shm::end_thread_token();
  });
  while (!looping.load()) std::this_thread::yield();
  std::thread waiter([&] {
    std::uint64_t me = thread_owner();
    CHECK(core.lock(me, kNever) == Acquire::Ok);  // must not starve
    CHECK(core.holder() == me);
    stop.store(true);
    core.unlock();
    tide::shm::end_thread_token();
  });
  waiter.join();
  holder.join();
  CHECK_FALSE(core.locked());
}

TEST_CASE("LockCore: several waiters and a looping holder all get through; counts exact") {
  auto l = Lock::create();
  LockCore& core = l->data().core;
  long counter = 0;  // guarded by the core alone
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      std::uint64_t me = thread_owner();
      for (int k = 0; k < 20000; ++k) {
        REQUIRE(core.lock(me, kNever) == Acquire::Ok);
        ++counter;
        core.unlock();
      }
      tide::shm::end_thread_token();
    });
  for (auto& t : ts) t.join();
  CHECK(counter == 80000);
  CHECK_FALSE(core.locked());
  CHECK(core.sleepers.load() == 0);
}

TEST_CASE("LockCore: a free lock is taken at once by a spinner; timeouts still end") {
  auto l = Lock::create();
  LockCore& core = l->data().core;
  std::uint64_t me = thread_owner();
  core.lock(me, kNever);
  std::atomic<std::uint64_t> other{0};
  std::atomic<bool> got{false};
  std::thread t([&] {
    other = thread_owner();
    got = core.lock(other, kNever) == Acquire::Ok;
  });
  core.unlock();
  t.join();  // its token stays claimed: the lock is held, not abandoned
  CHECK(got.load());
  CHECK(core.holder() == other.load());
  // Held: a timed acquire gives up (through the spin and the sleep).
  CHECK(core.lock(me, Deadline::after(0.02)) == Acquire::Timeout);
  CHECK(core.lock(me, now()) == Acquire::Timeout);
  core.unlock();
  CHECK(core.lock(me, now()) == Acquire::Ok);
  core.unlock();
}

TEST_CASE("RLock fast paths: take, re-enter, release by the owner only") {
  auto r = RLock::create();
  RLockData& d = r->data();
  CHECK(rlock_acquire_fast(d));
  CHECK(rlock_acquire_fast(d));
  CHECK(d.count.load() == 2);
  std::atomic<int> other_take{-1}, other_release{-1};
  std::thread([&] {
    other_take = rlock_acquire_fast(d) ? 1 : 0;
    other_release = rlock_release_fast(d) ? 1 : 0;
  }).join();
  CHECK(other_take == 0);
  CHECK(other_release == 0);
  CHECK(rlock_release_fast(d));
  CHECK(r->locked());
  CHECK(rlock_release_fast(d));
  CHECK_FALSE(r->locked());
  CHECK_FALSE(rlock_release_fast(d));  // not held: the caller raises
  // Mixed with the general calls.
  CHECK(r->lock(kNever));
  CHECK(rlock_acquire_fast(d));
  r->unlock();
  CHECK(rlock_release_fast(d));
  CHECK_FALSE(r->locked());
}

TEST_CASE("Lock fast release: false on an unheld lock, nothing changed") {
  auto l = Lock::create();
  CHECK_FALSE(lock_release_fast(l->data()));
  CHECK(l->lock(kNever));
  CHECK(lock_release_fast(l->data()));
  CHECK_FALSE(l->locked());
}

TEST_CASE("Value lock_guard/unlock_guard: its RLock (re-entrant), a shared Lock, lock=false") {
  auto v = Value::create(ScalarType::Int, 0, nullptr, true);
  CHECK(v->has_lock());
  CHECK(v->lock_guard(kNever));
  CHECK(v->lock_guard(kNever));  // an RLock
  auto lock = v->guard_lock();
  CHECK(static_cast<RLock*>(lock.get())->owned());
  v->unlock_guard();
  v->unlock_guard();
  CHECK_FALSE(static_cast<RLock*>(lock.get())->locked());
  CHECK(thrown_kind([&] { v->unlock_guard(); }) == ErrorKind::InvalidState);

  auto shared_lock = Lock::create();
  auto w = Value::create(ScalarType::Int, 0, shared_lock.get(), true);
  CHECK(w->lock_guard(kNever));
  CHECK(shared_lock->locked());
  CHECK_FALSE(w->lock_guard(now()));  // a Lock is not re-entrant
  w->unlock_guard();
  CHECK_FALSE(shared_lock->locked());

  auto raw = Value::create(ScalarType::Int, 0, nullptr, false);
  CHECK_FALSE(raw->has_lock());
  CHECK(thrown_kind([&] { raw->lock_guard(kNever); }) == ErrorKind::InvalidState);
  CHECK(thrown_kind([&] { raw->unlock_guard(); }) == ErrorKind::InvalidState);
}

TEST_CASE("Value lock_guard: two threads' read-modify-writes under it end exact") {
  auto v = Value::create(ScalarType::Int, 0, nullptr, true);
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 20000; ++k) {
        v->lock_guard(kNever);
        v->store(v->load() + 1);  // not atomic as a whole: the lock makes it so
        v->unlock_guard();
      }
      tide::shm::end_thread_token();
    });
  for (auto& t : ts) t.join();
  CHECK(v->load() == 40000);
}

}  // TEST_SUITE
