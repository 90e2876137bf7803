// Unit tests of tide.async's native wait (host/async/waiter.hpp) and the
// readiness registration under it (host/shm/watch.hpp): which tokens a wait
// returns for futures, queues and threads completed elsewhere (another
// thread, a fork child), descriptors alone and together with watched
// sources (the bridge), deadlines and cancellation. Ordering uses the
// objects themselves; every bounded wait is a hang detector.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "async/waiter.hpp"
#include "core/error.hpp"
#include "future/future.hpp"
#include "queue/queue.hpp"
#include "test_util.hpp"
#include "thread/thread.hpp"

namespace {

using tide::CompletionState;
using tide::Deadline;
using tide::ErrorKind;
using tide::Outcome;
using tide::Ref;
using tide::async::Waiter;
using tide::future::Future;
using tide::queue::Item;
using tide::queue::Kind;
using tide::queue::Queue;
using test_util::thrown_kind;

constexpr double kHang = 10.0;

Outcome completed() { return Outcome{CompletionState::Completed, {}, {}, {}}; }

bool has(const std::vector<Waiter::Token>& v, Waiter::Token t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

// Waits (up to kHang) until `token` is among the fired ones.
bool wait_for_token(Waiter& w, Waiter::Token token) {
  Deadline d = Deadline::after(kHang);
  std::vector<Waiter::Token> fired;
  while (!d.passed()) {
    w.wait(d, {}, fired);
    if (has(fired, token)) return true;
  }
  return false;
}

class FnBody final : public tide::ThreadBody {
 public:
  explicit FnBody(std::function<Outcome()> fn) : fn_(std::move(fn)) {}
  Outcome run(tide::Thread&) noexcept override { return fn_(); }

 private:
  std::function<Outcome()> fn_;
};

}  // namespace

TEST_CASE("a future completed by another thread fires its token, once") {
  Waiter w;
  Ref<Future> f = Future::create();
  Waiter::Token t = w.watch_future(f.get());
  std::vector<Waiter::Token> fired;
  CHECK(w.wait(Deadline::after(0), {}, fired) == 0);
  CHECK(fired.empty());
  std::thread completer([&] { f->complete(completed()); });
  CHECK(wait_for_token(w, t));
  completer.join();
  fired.clear();
  w.wait(Deadline::after(0), {}, fired);
  CHECK(fired.empty());  // fired once
  w.unwatch(t);
  CHECK(w.watching() == 0);
}

TEST_CASE("a future already done fires at once; an unwatched token is never returned") {
  Waiter w;
  Ref<Future> done = Future::create();
  done->complete(completed());
  Waiter::Token a = w.watch_future(done.get());
  std::vector<Waiter::Token> fired;
  w.wait(Deadline::after(kHang), {}, fired);
  CHECK(fired == std::vector<Waiter::Token>{a});

  Ref<Future> f = Future::create();
  Waiter::Token b = w.watch_future(f.get());
  f->complete(completed());  // fired, not yet taken
  w.unwatch(b);
  fired.clear();
  w.wait(Deadline::after(0), {}, fired);
  CHECK(fired.empty());
}

TEST_CASE("one wait reports every source that fired, in the order they fired") {
  Waiter w;
  Ref<Future> f1 = Future::create(), f2 = Future::create(), f3 = Future::create();
  Waiter::Token t1 = w.watch_future(f1.get()), t2 = w.watch_future(f2.get());
  w.watch_future(f3.get());
  f2->complete(completed());
  f1->complete(completed());
  std::vector<Waiter::Token> fired;
  w.wait(Deadline::after(kHang), {}, fired);
  CHECK(fired == std::vector<Waiter::Token>{t2, t1});
}

TEST_CASE("a queue watch fires on every put and at close; a room watch on gets") {
  Waiter w;
  Ref<Queue> q = Queue::create(Kind::Fifo, 1);
  Waiter::Token items = w.watch_queue_items(q.get());
  Waiter::Token room = w.watch_queue_room(q.get());
  std::vector<Waiter::Token> fired;
  w.wait(Deadline::after(0), {}, fired);
  CHECK(fired == std::vector<Waiter::Token>{room});  // empty: room at once, no item

  std::thread producer([&] { q->put(Item::from_bytes("a"), Deadline::never()); });
  CHECK(wait_for_token(w, items));
  producer.join();
  q->get(Deadline::after(0));
  fired.clear();
  w.wait(Deadline::after(kHang), {}, fired);
  CHECK(has(fired, room));

  q->close();
  fired.clear();
  w.wait(Deadline::after(kHang), {}, fired);
  CHECK(has(fired, items));
  CHECK(has(fired, room));
}

TEST_CASE("a thread's completion fires its token") {
  Waiter w;
  tide::WaitWord gate;
  std::atomic<bool> open{false};
  auto body = std::make_unique<FnBody>([&] {
    tide::wait_until(gate, Deadline::after(kHang), [&] { return open.load(); });
    return completed();
  });
  Ref<tide::Thread> t = Ref<tide::Thread>::make(std::move(body), "waiter-test", false);
  t->start();
  Waiter::Token token = w.watch_thread(t.get());
  std::vector<Waiter::Token> fired;
  w.wait(Deadline::after(0), {}, fired);
  CHECK(fired.empty());
  open = true;
  gate.notify_all();
  CHECK(wait_for_token(w, token));
  t->wait(Deadline::after(kHang));
}

TEST_CASE("descriptors alone: the wait ends when one is ready, or at the deadline") {
  Waiter w;
  int p[2];
  REQUIRE(pipe(p) == 0);
  pollfd fds[1] = {{p[0], POLLIN, 0}};
  std::vector<Waiter::Token> fired;
  CHECK(w.wait(Deadline::after(0.01), fds, fired) == 0);
  REQUIRE(write(p[1], "x", 1) == 1);
  CHECK(w.wait(Deadline::after(kHang), fds, fired) == 1);
  CHECK((fds[0].revents & POLLIN) != 0);
  close(p[0]);
  close(p[1]);
}

TEST_CASE("descriptors and a watched future together: either ends the wait (the bridge)") {
  Waiter w;
  int p[2];
  REQUIRE(pipe(p) == 0);
  Ref<Future> f = Future::create();
  Waiter::Token t = w.watch_future(f.get());
  pollfd fds[1] = {{p[0], POLLIN, 0}};
  std::vector<Waiter::Token> fired;
  // The future, completed while the loop polls its descriptor.
  std::thread completer([&] { f->complete(completed()); });  // before or during the poll: both work
  Deadline d = Deadline::after(kHang);
  while (!has(fired, t) && !d.passed()) w.wait(d, fds, fired);
  CHECK(has(fired, t));
  completer.join();
  // Then the descriptor, while a second future is watched.
  Ref<Future> g = Future::create();
  w.watch_future(g.get());
  std::thread writer([&] { REQUIRE(write(p[1], "x", 1) == 1); });
  fired.clear();
  int ready = 0;
  while (ready == 0 && !d.passed()) ready = w.wait(d, fds, fired);
  CHECK(ready == 1);
  CHECK(fired.empty());
  writer.join();
  close(p[0]);
  close(p[1]);
}

TEST_CASE("with nothing ready, the wait ends at the deadline") {
  Waiter w;
  Ref<Future> f = Future::create();
  w.watch_future(f.get());
  std::vector<Waiter::Token> fired;
  auto t0 = test_util::Clock::now();
  CHECK(w.wait(Deadline::after(0.05), {}, fired) == 0);
  CHECK(fired.empty());
  CHECK(test_util::seconds_since(t0) >= 0.04);
}

TEST_CASE("cancelling the waiting thread ends its wait with Cancelled") {
  Waiter w;
  Ref<Future> f = Future::create();
  w.watch_future(f.get());
  tide::WaitContext* ctx = nullptr;
  std::atomic<bool> ready{false};
  tide::ErrorKind kind = ErrorKind::OSError;
  std::thread waiter([&] {
    ctx = &tide::WaitContext::current();
    ready = true;
    std::vector<Waiter::Token> fired;
    kind = thrown_kind([&] { w.wait(Deadline::after(kHang), {}, fired); });
  });
  while (!ready) std::this_thread::yield();
  ctx->request_cancel();
  waiter.join();
  CHECK(kind == ErrorKind::Cancelled);
}

TEST_CASE("a future completed by a fork child fires the parent's watch") {
  Waiter w;
  Ref<Future> f = Future::create();
  Waiter::Token t = w.watch_future(f.get());
  pid_t pid = fork();
  if (pid == 0) {
    f->complete(completed());
    _exit(0);
  }
  REQUIRE(pid > 0);
  CHECK(wait_for_token(w, t));
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
}

TEST_CASE("a fork child's copy of a waiter refuses to wait (the parent's watches are not its own)") {
  Waiter w;
  Ref<Future> f = Future::create();
  w.watch_future(f.get());
  pid_t pid = fork();
  if (pid == 0) {
    int code = 1;
    try {
      std::vector<Waiter::Token> fired;
      w.wait(Deadline::after(0), {}, fired);
    } catch (const tide::Error& e) {
      code = e.kind() == ErrorKind::InvalidState ? 0 : 2;
    }
    _exit(code);
  }
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("watching and unwatching leaves nothing in the arena (fired, retired and pending watchers)") {
  tide::shm::Arena& arena = tide::shm::Arena::get();
  Future::create();  // the tree's shared word exists from here on
  std::int64_t before = arena.bytes_in_use();
  std::vector<Ref<Future>> futs;
  for (int i = 0; i < 1000; ++i) futs.push_back(Future::create());
  {
    Waiter w;
    std::vector<Waiter::Token> tokens;
    for (auto& f : futs) tokens.push_back(w.watch_future(f.get()));
    for (int i = 0; i < 500; ++i) futs[static_cast<std::size_t>(i)]->complete(completed());  // fired, not taken
    for (int i = 0; i < 250; ++i) w.unwatch(tokens[static_cast<std::size_t>(i)]);  // retired while queued
    std::vector<Waiter::Token> fired;
    w.wait(Deadline::after(0), {}, fired);
    CHECK(fired.size() == 250);
    for (auto t : tokens) w.unwatch(t);
    CHECK(w.watching() == 0);
  }  // the rest (never fired) go with the waiter
  futs.clear();  // each future frees its watcher list with it
  CHECK(arena.bytes_in_use() == before);
}
