// Unit tests of the one wait mechanism: WaitWord, WaitContext, Deadline,
// wait_until / wait_seq, sleep_for and the SIGINT flag (host/core/wait.hpp).
//
// Threads are ordered with the primitives under test (a waiter is known to be
// asleep once word.waiters counts it) or with std::latch, never with sleeps.
// Timing assertions are lower bounds at deadlines and generous upper bounds
// that only catch hangs.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/wait.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

using namespace test_util;


}  // namespace

TEST_SUITE("wait") {

TEST_CASE("Deadline: never, after(0), after(t), passed") {
  auto never = tide::Deadline::never();
  CHECK(never.is_never());
  CHECK_FALSE(never.passed());

  auto zero = tide::Deadline::after(0);
  CHECK_FALSE(zero.is_never());
  CHECK(zero.passed());

  auto later = tide::Deadline::after(60);
  CHECK_FALSE(later.is_never());
  CHECK_FALSE(later.passed());
  CHECK(later.at() > Clock::now() + 50s);

  // Huge timeouts mean "never".
  CHECK(tide::Deadline::after(1e12).is_never());

  // A short deadline passes once its time has come (and not before).
  auto t0 = Clock::now();
  auto soon = tide::Deadline::after(0.02);
  while (!soon.passed()) std::this_thread::yield();
  CHECK(seconds_since(t0) >= 0.019);

  // as_timespec is the steady clock's time point in seconds + nanoseconds.
  timespec ts = later.as_timespec();
  CHECK(ts.tv_nsec >= 0);
  CHECK(ts.tv_nsec < 1000000000L);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(later.at().time_since_epoch()).count();
  CHECK(static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec == ns);
}

TEST_CASE("notify wakes a waiter blocked in wait_until") {
  tide::WaitWord w;
  std::atomic<bool> ready{false};
  std::promise<bool> result;
  auto fut = result.get_future();
  std::thread waiter([&] {
    try {
      result.set_value(tide::wait_until(w, tide::Deadline::never(), [&] { return ready.load(); }));
    } catch (...) {
      result.set_exception(std::current_exception());
    }
  });
  // The waiter is asleep on the futex once it counts itself in `waiters`.
  REQUIRE(await_waiters(w, 1));
  CHECK(fut.wait_for(0s) == std::future_status::timeout);
  ready.store(true);
  w.notify_all();
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  CHECK(fut.get() == true);
  waiter.join();
  CHECK(w.waiters.load() == 0);
}

TEST_CASE("notify_one wakes a single waiter") {
  tide::WaitWord w;
  std::atomic<bool> ready{false};
  std::promise<bool> result;
  auto fut = result.get_future();
  std::thread waiter([&] {
    result.set_value(tide::wait_until(w, tide::Deadline::after(30), [&] { return ready.load(); }));
  });
  REQUIRE(await_waiters(w, 1));
  ready.store(true);
  w.notify_one();
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  CHECK(fut.get() == true);
  waiter.join();
}

TEST_CASE("wait_until returns false at the deadline, not much before it") {
  tide::WaitWord w;
  auto t0 = Clock::now();
  bool ok = tide::wait_until(w, tide::Deadline::after(0.05), [] { return false; });
  double took = seconds_since(t0);
  CHECK_FALSE(ok);
  CHECK(took >= 0.045);
  CHECK(took < 5.0);
  CHECK(w.waiters.load() == 0);
}

TEST_CASE("wait_seq times out (false) and reports a notify (true)") {
  tide::WaitWord w;
  auto t0 = Clock::now();
  CHECK_FALSE(tide::wait_seq(w, w.seq.load(), tide::Deadline::after(0.03)));
  CHECK(seconds_since(t0) >= 0.025);

  // A word already bumped past `seen` does not sleep: it returns at once.
  std::uint32_t seen = w.seq.load();
  w.notify_all();
  t0 = Clock::now();
  CHECK(tide::wait_seq(w, seen, tide::Deadline::never()));
  CHECK(seconds_since(t0) < 5.0);
}

TEST_CASE("timeout 0 does not block") {
  tide::WaitWord w;
  auto t0 = Clock::now();
  CHECK_FALSE(tide::wait_until(w, tide::Deadline::after(0), [] { return false; }));
  // A predicate that already holds wins over an expired deadline.
  CHECK(tide::wait_until(w, tide::Deadline::after(0), [] { return true; }));
  CHECK(tide::wait_until(w, tide::Deadline::never(), [] { return true; }));
  CHECK(seconds_since(t0) < 1.0);
  CHECK(w.waiters.load() == 0);
}

TEST_CASE("notify with no waiters only bumps the sequence") {
  tide::WaitWord w;
  CHECK(w.seq.load() == 0);
  CHECK(w.waiters.load() == 0);
  w.notify_all();
  w.notify_one();
  for (int i = 0; i < 1000; ++i) w.notify_all();
  CHECK(w.seq.load() == 1002);
  CHECK(w.waiters.load() == 0);
  // Later waits still work normally.
  CHECK_FALSE(tide::wait_until(w, tide::Deadline::after(0.001), [] { return false; }));
}

TEST_CASE("request_cancel from another thread wakes a wait with no deadline") {
  tide::WaitWord w;
  std::promise<tide::WaitContext*> ctx_p;
  auto ctx_f = ctx_p.get_future();
  std::promise<tide::ErrorKind> kind_p;
  auto kind_f = kind_p.get_future();
  std::atomic<bool> returned_normally{false};
  std::thread waiter([&] {
    auto& ctx = tide::WaitContext::current();
    ctx_p.set_value(&ctx);
    try {
      tide::wait_until(w, tide::Deadline::never(), [] { return false; });
      returned_normally = true;
      kind_p.set_value(tide::ErrorKind::OSError);
    } catch (const tide::Error& e) {
      kind_p.set_value(e.kind());
    }
    CHECK(ctx.cancel_requested());  // still set after the throw
    ctx.clear_cancel();
  });
  tide::WaitContext* ctx = ctx_f.get();
  REQUIRE(await_waiters(w, 1));
  CHECK_FALSE(ctx->cancel_requested());
  auto t0 = Clock::now();
  ctx->request_cancel();
  REQUIRE(kind_f.wait_for(5s) == std::future_status::ready);
  CHECK(kind_f.get() == tide::ErrorKind::Cancelled);
  CHECK(seconds_since(t0) < 5.0);
  CHECK_FALSE(returned_normally.load());
  waiter.join();
}

TEST_CASE("cancellation requested before the wait starts throws immediately") {
  std::thread t([] {
    auto& ctx = tide::WaitContext::current();
    ctx.request_cancel();
    CHECK(ctx.cancel_requested());
    tide::WaitWord w;
    auto t0 = Clock::now();
    CHECK(thrown_kind([&] { tide::wait_until(w, tide::Deadline::never(), [] { return false; }); }) ==
          tide::ErrorKind::Cancelled);
    CHECK(thrown_kind([&] { tide::wait_seq(w, w.seq.load(), tide::Deadline::after(30)); }) ==
          tide::ErrorKind::Cancelled);
    CHECK(thrown_kind([&] { ctx.check(); }) == tide::ErrorKind::Cancelled);
    CHECK(thrown_kind([] { tide::sleep_for(30); }) == tide::ErrorKind::Cancelled);
    CHECK(seconds_since(t0) < 5.0);
    // The request stays until cleared: every later wait throws too.
    CHECK(ctx.cancel_requested());
    CHECK(w.waiters.load() == 0);
    ctx.clear_cancel();
  });
  t.join();
}

TEST_CASE("clear_cancel resets the request") {
  std::thread t([] {
    auto& ctx = tide::WaitContext::current();
    tide::WaitWord w;
    ctx.request_cancel();
    ctx.clear_cancel();
    CHECK_FALSE(ctx.cancel_requested());
    CHECK_NOTHROW(ctx.check());
    bool ok = true;
    CHECK_NOTHROW(ok = tide::wait_until(w, tide::Deadline::after(0.01), [] { return false; }));
    CHECK_FALSE(ok);
    CHECK_NOTHROW(tide::sleep_for(0.001));
  });
  t.join();
}

TEST_CASE("sleep_for sleeps at least the time asked, and 0 returns at once") {
  auto t0 = Clock::now();
  tide::sleep_for(0);
  CHECK(seconds_since(t0) < 1.0);
  t0 = Clock::now();
  tide::sleep_for(0.03);
  double took = seconds_since(t0);
  CHECK(took >= 0.028);
  CHECK(took < 5.0);
}

TEST_CASE("sleep_for is cancellable from another thread") {
  std::promise<tide::WaitContext*> ctx_p;
  auto ctx_f = ctx_p.get_future();
  std::promise<tide::ErrorKind> kind_p;
  auto kind_f = kind_p.get_future();
  std::thread sleeper([&] {
    auto& ctx = tide::WaitContext::current();
    ctx_p.set_value(&ctx);
    try {
      tide::sleep_for(60);
      kind_p.set_value(tide::ErrorKind::OSError);
    } catch (const tide::Error& e) {
      kind_p.set_value(e.kind());
    }
    ctx.clear_cancel();
  });
  tide::WaitContext* ctx = ctx_f.get();
  auto t0 = Clock::now();
  // Whether the request lands before or during the sleep, it must end it.
  ctx->request_cancel();
  REQUIRE(kind_f.wait_for(5s) == std::future_status::ready);
  CHECK(kind_f.get() == tide::ErrorKind::Cancelled);
  CHECK(seconds_since(t0) < 5.0);
  sleeper.join();
}

TEST_CASE("notify_all wakes every waiter") {
  constexpr int kWaiters = 16;
  tide::WaitWord w;
  std::atomic<bool> go{false};
  std::atomic<int> woke{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      if (tide::wait_until(w, tide::Deadline::after(30), [&] { return go.load(); })) ++woke;
    });
  }
  REQUIRE(await_waiters(w, kWaiters));
  CHECK(woke.load() == 0);
  auto t0 = Clock::now();
  go.store(true);
  w.notify_all();
  for (auto& t : threads) t.join();
  CHECK(woke.load() == kWaiters);
  CHECK(seconds_since(t0) < 5.0);
  CHECK(w.waiters.load() == 0);
}

TEST_CASE("stress: ping-pong through two WaitWords never loses a wake-up") {
  constexpr int kRounds = 10000;
  tide::WaitWord ping, pong;
  std::atomic<int> turn{0};  // even: A's move, odd: B's move
  std::atomic<int> timeouts{0};
  auto player = [&](tide::WaitWord& mine, tide::WaitWord& theirs, int parity) {
    for (int i = 0; i < kRounds; ++i) {
      int want = 2 * i + parity;
      // A lost wake-up shows as a timeout here instead of a hang.
      if (!tide::wait_until(mine, tide::Deadline::after(10), [&] { return turn.load() == want; })) {
        ++timeouts;
        return;
      }
      turn.store(want + 1);
      theirs.notify_one();
    }
  };
  auto t0 = Clock::now();
  std::thread a(player, std::ref(ping), std::ref(pong), 0);
  std::thread b(player, std::ref(pong), std::ref(ping), 1);
  a.join();
  b.join();
  CHECK(timeouts.load() == 0);
  CHECK(turn.load() == 2 * kRounds);
  MESSAGE("10000 ping-pong rounds took " << seconds_since(t0) * 1000 << " ms");
}

TEST_CASE("stress: request_cancel racing a wait that ends on its own") {
  // The waiter times out on a word local to its own stack, which dies as soon
  // as the wait is over, while another thread cancels it: the canceller may
  // bump the word the waiter was sleeping on only while that wait lasts.
  constexpr int kRounds = 2000;
  int cancelled = 0, timed_out = 0;
  for (int i = 0; i < kRounds; ++i) {
    std::promise<tide::WaitContext*> ctx_p;
    auto ctx_f = ctx_p.get_future();
    std::latch go(1), cancel_done(1);
    std::atomic<int> outcome{0};  // 1 timed out, 2 cancelled
    const double timeout = 0.00001 * (i % 8);
    std::thread t([&] {
      auto& ctx = tide::WaitContext::current();
      ctx_p.set_value(&ctx);
      go.wait();
      {
        tide::WaitWord local;
        try {
          bool ok = tide::wait_until(local, tide::Deadline::after(timeout), [] { return false; });
          outcome = ok ? 3 : 1;
        } catch (const tide::Error& e) {
          outcome = e.kind() == tide::ErrorKind::Cancelled ? 2 : 3;
        }
      }
      cancel_done.wait();  // keep the context alive until request_cancel returned
      ctx.clear_cancel();
    });
    tide::WaitContext* ctx = ctx_f.get();
    go.count_down();
    for (int spin = 0; spin < (i % 7) * 3000; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
    ctx->request_cancel();
    cancel_done.count_down();
    t.join();
    if (outcome.load() == 1) ++timed_out;
    else if (outcome.load() == 2) ++cancelled;
    else FAIL_CHECK("unexpected outcome " << outcome.load());
  }
  CHECK(cancelled + timed_out == kRounds);
  MESSAGE("timed out " << timed_out << ", cancelled " << cancelled);
}

// The SIGINT tests run on doctest's main thread: the host only ever marks one
// long-lived thread interruptible (the main state's), and the interrupt
// target it remembers must outlive every later note_sigint().
TEST_CASE("SIGINT noted before a wait on an interruptible context throws Interrupted") {
  auto& ctx = tide::WaitContext::current();
  tide::sigint_pending(true);  // start clean
  ctx.set_interruptible(true);
  CHECK(ctx.interruptible());

  tide::note_sigint();
  CHECK(tide::sigint_pending(false));  // peek does not consume
  CHECK(tide::sigint_pending(false));
  tide::WaitWord w;
  auto t0 = Clock::now();
  CHECK(thrown_kind([&] { tide::wait_until(w, tide::Deadline::never(), [] { return false; }); }) ==
        tide::ErrorKind::Interrupted);
  CHECK(seconds_since(t0) < 5.0);
  CHECK_FALSE(tide::sigint_pending(false));  // consumed by the wait
  // Consumed once: the next wait is not interrupted.
  CHECK_FALSE(tide::wait_until(w, tide::Deadline::after(0.01), [] { return false; }));

  // check() and sleep_for go through the same path.
  tide::note_sigint();
  CHECK(thrown_kind([&] { ctx.check(); }) == tide::ErrorKind::Interrupted);
  CHECK_FALSE(tide::sigint_pending(false));
  tide::note_sigint();
  CHECK(thrown_kind([] { tide::sleep_for(30); }) == tide::ErrorKind::Interrupted);
  CHECK_FALSE(tide::sigint_pending(false));

  ctx.set_interruptible(false);
}

TEST_CASE("SIGINT noted from another thread wakes an interruptible wait") {
  auto& ctx = tide::WaitContext::current();
  tide::sigint_pending(true);
  ctx.set_interruptible(true);
  tide::WaitWord w;
  std::thread noter([&] {
    // Only once the main thread sleeps on w, so the wake path is exercised.
    if (await_waiters(w, 1)) tide::note_sigint();
  });
  auto t0 = Clock::now();
  tide::ErrorKind kind = thrown_kind([&] {
    // Bounded so that a missed interrupt fails instead of hanging.
    if (!tide::wait_until(w, tide::Deadline::after(10), [] { return false; }))
      FAIL_CHECK("timed out instead of being interrupted");
  });
  CHECK(kind == tide::ErrorKind::Interrupted);
  CHECK(seconds_since(t0) < 5.0);
  noter.join();
  CHECK_FALSE(tide::sigint_pending(false));
  ctx.set_interruptible(false);
}

TEST_CASE("SIGINT does not interrupt a non-interruptible context") {
  auto& ctx = tide::WaitContext::current();
  tide::sigint_pending(true);
  ctx.set_interruptible(false);
  tide::note_sigint();
  tide::WaitWord w;
  bool ok = true;
  CHECK_NOTHROW(ok = tide::wait_until(w, tide::Deadline::after(0.02), [] { return false; }));
  CHECK_FALSE(ok);
  CHECK_NOTHROW(ctx.check());
  // The flag is still there for whoever takes it, and taking consumes it.
  CHECK(tide::sigint_pending(true));
  CHECK_FALSE(tide::sigint_pending(true));
}

}  // TEST_SUITE
