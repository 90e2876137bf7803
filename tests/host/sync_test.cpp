// Unit tests of tide.sync's native core and tide.shared's Value/Array
// (host/sync/, host/shared_values/) between threads: every primitive, the
// bad inputs, abandoned locks. Cross-process tests: sync_process_test.cpp.
//
// Threads are ordered with the primitives under test and joins, never with
// sleeps. A waiter is known to be asleep once the wait word counts it. Time
// is only checked with generous upper bounds that catch hangs (and the
// ~1 s promise of abandoned-lock detection).
#include "sync_test_util.hpp"

TEST_SUITE("sync") {


TEST_CASE("Lock: acquire, non-blocking failure, release, release of an unheld lock") {
  auto l = Lock::create();
  CHECK_FALSE(l->locked());
  CHECK(l->lock(kNever));
  CHECK(l->locked());
  CHECK_FALSE(l->lock(now()));
  auto t0 = Clock::now();
  CHECK_FALSE(l->lock(Deadline::after(0.05)));
  CHECK(seconds_since(t0) >= 0.04);
  l->unlock();
  CHECK_FALSE(l->locked());
  CHECK(thrown_kind([&] { l->unlock(); }) == ErrorKind::InvalidState);
}

TEST_CASE("Lock: four threads x 50,000 guarded increments end exact; released by another thread") {
  auto l = Lock::create();
  long counter = 0;  // plain memory: the lock alone orders the accesses
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 50000; ++k) {
        l->lock(kNever);
        ++counter;
        l->unlock();
      }
    });
  for (auto& t : ts) t.join();
  CHECK(counter == 200000);
  // Python semantics: a Lock may be released by a thread that did not take it.
  l->lock(kNever);
  std::thread([&] { l->unlock(); }).join();
  CHECK_FALSE(l->locked());
}

TEST_CASE("Lock: a blocked acquire is woken by release and ends on cancellation") {
  auto l = Lock::create();
  l->lock(kNever);
  std::atomic<int> got{-1};
  std::thread waiter([&] { got = l->lock(kNever) ? 1 : 0; });
  REQUIRE(await_sleepers(l->data().core.word, 1));
  l->unlock();
  waiter.join();
  CHECK(got == 1);
  CHECK(l->locked());

  std::atomic<tide::WaitContext*> ctx{nullptr};
  std::atomic<int> kind{-1};
  std::thread cancelled([&] {
    ctx = &tide::WaitContext::current();
    kind = static_cast<int>(thrown_kind([&] { l->lock(kNever); }));
    tide::WaitContext::current().clear_cancel();
  });
  REQUIRE(await_sleepers(l->data().core.word, 1));
  ctx.load()->request_cancel();
  cancelled.join();
  CHECK(kind == static_cast<int>(ErrorKind::Cancelled));
  CHECK(l->data().core.sleepers.load() == 0);
  l->unlock();
}

TEST_CASE("RLock: re-entrant for its owner; others cannot release it; abandoned when its thread ends") {
  auto r = RLock::create();
  CHECK(r->lock(kNever));
  CHECK(r->lock(kNever));
  CHECK(r->owned());
  std::atomic<int> other{-1}, try_other{-1};
  std::thread([&] {
    other = static_cast<int>(thrown_kind([&] { r->unlock(); }));
    try_other = r->lock(now()) ? 1 : 0;
  }).join();
  CHECK(other == static_cast<int>(ErrorKind::InvalidState));
  CHECK(try_other == 0);
  r->unlock();
  CHECK(r->locked());
  r->unlock();
  CHECK_FALSE(r->locked());
  CHECK(thrown_kind([&] { r->unlock(); }) == ErrorKind::InvalidState);

  // A thread that takes it and ends (its tide token released, as Thread::run
  // does) abandons it: the next acquire raises and then holds it.
  std::thread([&] {
    r->lock(kNever);
    r->lock(kNever);
    tide::shm::end_thread_token();
  }).join();
  auto t0 = Clock::now();
  CHECK(thrown_kind([&] { r->lock(kNever); }) == ErrorKind::AbandonedLock);
  CHECK(seconds_since(t0) < 2.0);
  CHECK(r->owned());
  r->unlock();  // count is 1 after the takeover
  CHECK_FALSE(r->locked());
}

TEST_CASE("Condition: needs its lock; wait times out; notify wakes; ping-pong 10,000 rounds") {
  auto c = Condition::create(nullptr);
  CHECK(c->lock_is_rlock());
  CHECK(thrown_kind([&] { c->wait(now()); }) == ErrorKind::InvalidState);
  CHECK(thrown_kind([&] { c->notify(1); }) == ErrorKind::InvalidState);
  CHECK(thrown_kind([&] { c->notify_all(); }) == ErrorKind::InvalidState);
  c->lock(kNever);
  c->lock(kNever);  // RLock: wait releases both levels and restores them
  CHECK_FALSE(c->wait(Deadline::after(0.02)));
  CHECK(c->owned());
  c->unlock();
  c->unlock();
  CHECK_FALSE(c->locked());

  int turn = 0;  // guarded by the condition's lock
  constexpr int kRounds = 10000;
  auto player = [&](int me) {
    for (int i = 0; i < kRounds; ++i) {
      c->lock(kNever);
      while (turn != me) c->wait(kNever);
      turn = 1 - me;
      c->notify(1);
      c->unlock();
    }
  };
  std::thread a(player, 0), b(player, 1);
  a.join();
  b.join();
  CHECK(turn == 0);
}

TEST_CASE("Condition over a Lock; notify_all wakes every waiter; ArgumentError for other objects") {
  auto l = Lock::create();
  auto c = Condition::create(l.get());
  CHECK_FALSE(c->lock_is_rlock());
  auto e = Event::create();
  CHECK(thrown_kind([&] { Condition::create(e.get()); }) == ErrorKind::ArgumentError);
  std::atomic<int> woken{0};
  bool go = false;
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&] {
      c->lock(kNever);
      while (!go) c->wait(kNever);
      c->unlock();
      ++woken;
    });
  REQUIRE(await_sleepers(c->data().word, 3));
  c->lock(kNever);
  go = true;
  c->notify_all();
  c->unlock();
  for (auto& t : ts) t.join();
  CHECK(woken == 3);
  CHECK_FALSE(l->locked());
}

TEST_CASE("Semaphore and BoundedSemaphore") {
  CHECK(thrown_kind([] { Semaphore::create(-1, false); }) == ErrorKind::ArgumentError);
  auto s = Semaphore::create(2, false);
  CHECK(s->lock(kNever));
  CHECK(s->lock(kNever));
  CHECK_FALSE(s->lock(now()));
  CHECK(thrown_kind([&] { s->post(0); }) == ErrorKind::ArgumentError);
  std::atomic<int> got{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) ts.emplace_back([&] { got += s->lock(kNever) ? 1 : 0; });
  REQUIRE(await_sleepers(s->data().wp.word, 3));
  s->post(3);
  for (auto& t : ts) t.join();
  CHECK(got == 3);
  CHECK(s->value() == 0);
  s->post(5);  // unbounded: fine
  CHECK(s->value() == 5);

  auto b = Semaphore::create(1, true);
  CHECK(b->type_name() == std::string("tide.BoundedSemaphore"));
  CHECK(thrown_kind([&] { b->post(1); }) == ErrorKind::InvalidState);
  CHECK(b->lock(kNever));
  CHECK(thrown_kind([&] { b->post(2); }) == ErrorKind::InvalidState);
  b->post(1);
  CHECK(b->value() == 1);
}

TEST_CASE("Event: set, clear, wait with timeout, a set seen by a waiter even if cleared at once") {
  auto e = Event::create();
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait(Deadline::after(0.01)));
  std::atomic<int> r{-1};
  std::thread w([&] { r = e->wait(kNever) ? 1 : 0; });
  REQUIRE(await_sleepers(e->data().word, 1));
  e->set();
  e->clear();
  w.join();
  CHECK(r == 1);
  e->set();
  CHECK(e->is_set());
  CHECK(e->wait(now()));
}

TEST_CASE("Barrier: indexes, action once per round, reuse, timeout, abort, reset, Barrier(0)") {
  CHECK(thrown_kind([] { Barrier::create(0, -1, 0); }) == ErrorKind::ArgumentError);
  auto b = Barrier::create(3, -1, 0);
  CHECK(b->parties() == 3);
  constexpr int kRounds = 200;
  std::atomic<int> index_sum{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < kRounds; ++k) index_sum += static_cast<int>(b->wait(nullptr, nullptr));
    });
  for (auto& t : ts) t.join();
  CHECK(index_sum == kRounds * (0 + 1 + 2));
  CHECK(b->n_waiting() == 0);

  // A party times out: it and the others see BrokenBarrier until reset().
  CHECK(thrown_kind([&] { auto d = Deadline::after(0.02); b->wait(&d, nullptr); }) == ErrorKind::BrokenBarrier);
  CHECK(b->broken());
  CHECK(thrown_kind([&] { b->wait(nullptr, nullptr); }) == ErrorKind::BrokenBarrier);
  b->reset();
  CHECK_FALSE(b->broken());

  // abort() wakes a waiting party with BrokenBarrier.
  std::atomic<int> kind{-1};
  std::thread w([&] { kind = static_cast<int>(thrown_kind([&] { b->wait(nullptr, nullptr); })); });
  while (b->n_waiting() != 1) std::this_thread::yield();
  b->abort();
  w.join();
  CHECK(kind == static_cast<int>(ErrorKind::BrokenBarrier));
  b->reset();

  // reset() while a party waits breaks that wait; the barrier is usable after.
  std::thread w2([&] { kind = static_cast<int>(thrown_kind([&] { b->wait(nullptr, nullptr); })); });
  while (b->n_waiting() != 1) std::this_thread::yield();
  b->reset();
  w2.join();
  CHECK(kind == static_cast<int>(ErrorKind::BrokenBarrier));
  CHECK_FALSE(b->broken());
}

TEST_CASE("Barrier: the action runs once per round in the last party; a failing action breaks it") {
  // A non-zero action offset tells the barrier it has an action; the
  // caller supplies the callable (the binding decodes a Lua function).
  auto b = Barrier::create(2, -1, 0);
  b->data().action = 1;  // marker only: never loaded here
  std::atomic<int> runs{0};
  Barrier::Action count = [&] { ++runs; return true; };
  std::thread t([&] { for (int k = 0; k < 100; ++k) b->wait(nullptr, &count); });
  for (int k = 0; k < 100; ++k) b->wait(nullptr, &count);
  t.join();
  CHECK(runs == 100);
  Barrier::Action fail = [] { return false; };
  std::atomic<int> kind{-1};
  std::thread t2([&] { kind = static_cast<int>(thrown_kind([&] { b->wait(nullptr, &fail); })); });
  while (b->n_waiting() != 1) std::this_thread::yield();
  CHECK(b->wait(nullptr, &fail) == -1);
  t2.join();
  CHECK(kind == static_cast<int>(ErrorKind::BrokenBarrier));
  CHECK(b->broken());
  b->data().action = 0;
}

TEST_CASE("Value and Array: atomic add/cas, locks, bounds, lifetime of the lock") {
  auto v = Value::create(ScalarType::Int, 5, nullptr, true);
  CHECK(v->add(std::int64_t(3)) == 8);
  CHECK(v->cas(8, 10));
  CHECK_FALSE(v->cas(8, 11));
  CHECK(tide::shared::int_of(v->load()) == 10);
  auto lock = v->guard_lock();
  REQUIRE(lock);
  CHECK(std::string(lock->type_name()) == "tide.RLock");
  auto d = Value::create(ScalarType::Double, tide::shared::bits_of(1.5), nullptr, false);
  CHECK_FALSE(d->guard_lock());
  CHECK(d->add(0.25) == 1.75);
  CHECK(d->cas(tide::shared::bits_of(1.75), tide::shared::bits_of(-2.0)));
  CHECK(tide::shared::double_of(d->load()) == -2.0);
  // Two threads x 100,000 atomic adds.
  auto c = Value::create(ScalarType::Int, 0, nullptr, false);
  std::thread t([&] { for (int i = 0; i < 100000; ++i) c->add(std::int64_t(1)); });
  for (int i = 0; i < 100000; ++i) c->add(std::int64_t(-1));
  t.join();
  CHECK(tide::shared::int_of(c->load()) == 0);

  CHECK(thrown_kind([] { Array::create(ScalarType::Int, -1, 0, nullptr, true); }) == ErrorKind::ArgumentError);
  auto l = Lock::create();
  auto a = Array::create(ScalarType::Bool, 4, 1, l.get(), true);
  CHECK(a->size() == 4);
  CHECK(a->load(3) == 1);
  a->store(3, 0);
  CHECK(a->load(3) == 0);
  auto al = a->guard_lock();
  REQUIRE(al);
  CHECK(static_cast<tide::shm::SharedObject*>(al.get())->shared_header() == l->shared_header());
  auto e = Event::create();
  CHECK(thrown_kind([&] { Value::create(ScalarType::Int, 0, e.get(), true); }) == ErrorKind::ArgumentError);
}

TEST_CASE("shared objects free their arena memory, their locks included") {
  auto& arena = tide::shm::Arena::get();
  std::int64_t before = arena.bytes_in_use();
  {
    auto v = Value::create(ScalarType::Int, 0, nullptr, true);
    auto c = Condition::create(nullptr);
    auto a = Array::create(ScalarType::Double, 1000, 0, nullptr, true);
    auto lock = a->guard_lock();
    CHECK(arena.bytes_in_use() > before);
  }
  CHECK(arena.bytes_in_use() == before);
}

}  // TEST_SUITE
