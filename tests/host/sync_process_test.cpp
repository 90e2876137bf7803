// The same arena objects between a parent and fork() children (each child
// does its work and _exit()s with a code the parent checks): Lock, RLock,
// Condition, Event, Semaphore, Barrier and Value across processes, and
// locks abandoned by a SIGKILLed child.
#include "sync_test_util.hpp"

TEST_SUITE("sync") {

TEST_CASE("across processes: a Lock and a shared Value, 2 processes x 100,000 locked increments") {
  auto l = Lock::create();
  auto v = Value::create(ScalarType::Int, 0, nullptr, false);
  auto go = Event::create();
  constexpr int kN = 100000;
  auto work = [&] {
    go->wait(kNever);
    for (int i = 0; i < kN; ++i) {
      l->lock(kNever);
      v->store(v->load() + 1);  // a non-atomic read-modify-write: the lock makes it exact
      l->unlock();
    }
  };
  pid_t pid = spawn_child([&] {
    work();
    return 0;
  });
  go->set();
  work();
  CHECK(exited_with(reap(pid), 0));
  CHECK(tide::shared::int_of(v->load()) == 2 * kN);
}

TEST_CASE("across processes: the child sees the parent's lock held, blocks, and is woken by its release") {
  auto l = Lock::create();
  auto asked = Event::create();
  std::uint64_t parent_token = process_owner();
  l->lock(kNever);
  pid_t pid = spawn_child([&] {
    if (process_owner() == parent_token) return 1;  // a fork child is another owner
    if (l->lock(now())) return 2;                   // held by the parent process
    asked->set();
    if (!l->lock(kNever)) return 3;  // woken by the parent's release
    l->unlock();
    return 0;
  });
  asked->wait(kNever);
  l->unlock();
  CHECK(exited_with(reap(pid), 0));
  CHECK_FALSE(l->locked());
}

TEST_CASE("across processes: a child SIGKILLed holding a Lock -> AbandonedLock within ~1 s, then held") {
  auto l = Lock::create();
  auto taken = Event::create();
  pid_t pid = spawn_child([&] {
    l->lock(kNever);
    taken->set();
    kill(getpid(), SIGKILL);
    return 1;
  });
  taken->wait(kNever);
  int status = reap(pid);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  auto t0 = Clock::now();
  CHECK(thrown_kind([&] { l->lock(kNever); }) == ErrorKind::AbandonedLock);
  CHECK(seconds_since(t0) < 1.5);
  CHECK(lock_owned(l->data()));
  CHECK_FALSE(l->lock(now()));
  l->unlock();
}

TEST_CASE("across processes: a waiter already blocked when the holder dies is released with AbandonedLock") {
  auto l = Lock::create();
  auto r = RLock::create();
  auto taken = Event::create();
  auto die = Event::create();
  pid_t pid = spawn_child([&] {
    l->lock(kNever);
    r->lock(kNever);
    taken->set();
    die->wait(kNever);
    kill(getpid(), SIGKILL);
    return 1;
  });
  taken->wait(kNever);
  std::atomic<int> lock_kind{-1}, rlock_kind{-1};
  std::thread wl([&] { lock_kind = static_cast<int>(thrown_kind([&] { l->lock(kNever); })); });
  std::thread wr([&] {
    rlock_kind = static_cast<int>(thrown_kind([&] { r->lock(kNever); }));
    r->unlock();  // the taker holds it with count 1
  });
  REQUIRE(await_sleepers(l->data().core.word, 1));
  REQUIRE(await_sleepers(r->data().core.word, 1));
  die->set();
  reap(pid);  // a zombie still counts as alive: reap before expecting the takeover
  wl.join();
  wr.join();
  CHECK(lock_kind == static_cast<int>(ErrorKind::AbandonedLock));
  CHECK(rlock_kind == static_cast<int>(ErrorKind::AbandonedLock));
  CHECK(l->locked());
  CHECK_FALSE(r->locked());
  l->unlock();
}

TEST_CASE("across processes: Event ping-pong, 10,000 rounds, no lost wake-up") {
  auto ping = Event::create();
  auto pong = Event::create();
  constexpr int kRounds = 10000;
  pid_t pid = spawn_child([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!ping->wait(Deadline::after(30))) return 1;
      ping->clear();
      pong->set();
    }
    return 0;
  });
  int missed = 0;
  for (int i = 0; i < kRounds && missed == 0; ++i) {
    ping->set();
    if (!pong->wait(Deadline::after(30))) ++missed;
    pong->clear();
  }
  CHECK(missed == 0);
  CHECK(exited_with(reap(pid), 0));
}

TEST_CASE("across processes: Condition ping-pong (over an RLock and over a Lock), 10,000 rounds") {
  for (bool over_lock : {false, true}) {
    CAPTURE(over_lock);
    auto l = Lock::create();
    auto c = Condition::create(over_lock ? l.get() : nullptr);
    auto turn = Value::create(ScalarType::Int, 0, nullptr, false);
    constexpr int kRounds = 10000;
    auto player = [&](std::int64_t me) {
      for (int i = 0; i < kRounds; ++i) {
        c->lock(kNever);
        while (tide::shared::int_of(turn->load()) != me) {
          if (!c->wait(Deadline::after(30))) {
            c->unlock();
            return false;
          }
        }
        turn->store(static_cast<std::uint64_t>(1 - me));
        c->notify(1);
        c->unlock();
      }
      return true;
    };
    pid_t pid = spawn_child([&] { return player(1) ? 0 : 1; });
    CHECK(player(0));
    CHECK(exited_with(reap(pid), 0));
  }
}

TEST_CASE("across processes: Semaphore and Barrier") {
  auto s = Semaphore::create(0, false);
  auto b = Barrier::create(2, -1, 0);
  pid_t pid = spawn_child([&] {
    for (int i = 0; i < 1000; ++i) s->post(1);
    for (int k = 0; k < 100; ++k) b->wait(nullptr, nullptr);
    return 0;
  });
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(!s->lock(Deadline::after(30)));
  for (int k = 0; k < 100; ++k) b->wait(nullptr, nullptr);
  CHECK(exited_with(reap(pid), 0));
  CHECK(s->value() == 0);
}

}  // TEST_SUITE
