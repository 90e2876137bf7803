// Unit tests of the thread layer without Lua: Completion, Thread running a
// C++ ThreadBody (status, start twice, cancel, Timer, enumerate, current)
// and the warm OS-thread cache (host/thread/*.hpp).
//
// Threads are ordered with std::latch / std::promise and the primitives under
// test, never with sleeps; time is only checked as lower bounds at delays and
// generous upper bounds that catch hangs.
#include <doctest/doctest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "thread/completion.hpp"
#include "thread/os_threads.hpp"
#include "thread/thread.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

using namespace test_util;
using tide::CompletionState;
using tide::Outcome;
using tide::Ref;
using tide::Thread;

pid_t os_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }


Outcome completed() { return Outcome{CompletionState::Completed, {}, {}, {}}; }

// A ThreadBody that runs a C++ callable; the body must not throw, so any
// exception becomes a Failed outcome.
class FnBody final : public tide::ThreadBody {
 public:
  explicit FnBody(std::function<Outcome(Thread&)> fn) : fn_(std::move(fn)) {}
  Outcome run(Thread& self) noexcept override {
    try {
      return fn_(self);
    } catch (const std::exception& e) {
      return Outcome{CompletionState::Failed, {}, e.what(), {}};
    }
  }

 private:
  std::function<Outcome(Thread&)> fn_;
};

Ref<Thread> make_thread(std::function<Outcome(Thread&)> fn, std::string name = "",
                        double delay = -1, bool daemon = false) {
  if (name.empty()) name = Thread::next_name("Test");
  return Ref<Thread>::make(std::make_unique<FnBody>(std::move(fn)), std::move(name), daemon, delay);
}

bool listed(const Thread* t) {
  for (auto& r : Thread::enumerate())
    if (r.get() == t) return true;
  return false;
}

}  // namespace

TEST_SUITE("completion") {

TEST_CASE("finish sets the outcome once") {
  tide::Completion c;
  CHECK(c.state() == CompletionState::Pending);
  CHECK_FALSE(c.done());
  Outcome o = completed();
  o.text = "first";
  CHECK(c.finish(o));
  CHECK(c.done());
  CHECK(c.state() == CompletionState::Completed);
  Outcome second{CompletionState::Failed, {}, "second", {}};
  CHECK_FALSE(c.finish(second));
  CHECK(c.state() == CompletionState::Completed);
  CHECK(c.outcome().state == CompletionState::Completed);
  CHECK(c.outcome().text == "first");
  CHECK_FALSE(c.cancel_pending());
  CHECK_FALSE(c.start_running());
  CHECK(c.wait(tide::Deadline::after(0)));
}

TEST_CASE("finish from Running records a failure") {
  tide::Completion c;
  CHECK(c.start_running());
  CHECK(c.state() == CompletionState::Running);
  CHECK_FALSE(c.done());
  CHECK_FALSE(c.start_running());
  CHECK(c.finish(Outcome{CompletionState::Failed, {}, "boom", "tb"}));
  CHECK(c.state() == CompletionState::Failed);
  CHECK(c.outcome().text == "boom");
  CHECK(c.outcome().traceback == "tb");
}

TEST_CASE("cancel_pending only while pending") {
  SUBCASE("pending: cancelled, and the runner can no longer start") {
    tide::Completion c;
    CHECK(c.cancel_pending());
    CHECK(c.state() == CompletionState::Cancelled);
    CHECK(c.done());
    CHECK(c.outcome().state == CompletionState::Cancelled);
    CHECK_FALSE(c.start_running());
    CHECK_FALSE(c.cancel_pending());
    CHECK_FALSE(c.finish(completed()));
    CHECK(c.state() == CompletionState::Cancelled);
  }
  SUBCASE("running: not cancellable here") {
    tide::Completion c;
    CHECK(c.start_running());
    CHECK_FALSE(c.cancel_pending());
    CHECK(c.state() == CompletionState::Running);
    CHECK(c.finish(completed()));
    CHECK(c.state() == CompletionState::Completed);
    CHECK(c.outcome().state == CompletionState::Completed);
  }
}

TEST_CASE("wait returns true after finish from another thread") {
  tide::Completion c;
  std::latch started(1);
  std::thread finisher([&] {
    started.wait();
    CHECK(c.start_running());
    CHECK(c.finish(completed()));
  });
  auto t0 = Clock::now();
  started.count_down();
  CHECK(c.wait(tide::Deadline::after(30)));
  CHECK(seconds_since(t0) < 5.0);
  CHECK(c.state() == CompletionState::Completed);
  finisher.join();
}

TEST_CASE("wait times out") {
  tide::Completion c;
  auto t0 = Clock::now();
  CHECK_FALSE(c.wait(tide::Deadline::after(0.05)));
  double took = seconds_since(t0);
  CHECK(took >= 0.045);
  CHECK(took < 5.0);
  auto t1 = Clock::now();
  CHECK_FALSE(c.wait(tide::Deadline::after(0)));
  CHECK(seconds_since(t1) < 1.0);
  CHECK(c.state() == CompletionState::Pending);
}

TEST_CASE("wait throws Cancelled for a waiting thread that is cancelled") {
  tide::Completion c;
  std::promise<tide::WaitContext*> ctx_p;
  auto ctx_f = ctx_p.get_future();
  std::promise<tide::ErrorKind> kind_p;
  auto kind_f = kind_p.get_future();
  std::thread waiter([&] {
    auto& ctx = tide::WaitContext::current();
    ctx_p.set_value(&ctx);
    try {
      c.wait(tide::Deadline::never());
      kind_p.set_value(tide::ErrorKind::OSError);
    } catch (const tide::Error& e) {
      kind_p.set_value(e.kind());
    }
    ctx.clear_cancel();
  });
  ctx_f.get()->request_cancel();
  REQUIRE(kind_f.wait_for(5s) == std::future_status::ready);
  CHECK(kind_f.get() == tide::ErrorKind::Cancelled);
  waiter.join();
  // The completion itself is untouched by its waiter's cancellation.
  CHECK(c.state() == CompletionState::Pending);
}

TEST_CASE("stress: start_running+finish racing cancel_pending") {
  constexpr int kRounds = 5000;
  std::unique_ptr<tide::Completion[]> cs(new tide::Completion[kRounds]);
  std::vector<char> started(kRounds), finished(kRounds), cancelled(kRounds);
  std::barrier sync(2);
  std::thread runner([&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();
      // Vary who goes first, so the two calls really overlap in some rounds.
      for (int spin = 0; spin < (i % 5) * 20; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
      started[i] = cs[i].start_running();
      if (started[i]) finished[i] = cs[i].finish(completed());
    }
  });
  std::thread canceller([&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();
      for (int spin = 0; spin < (i % 3) * 30; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
      cancelled[i] = cs[i].cancel_pending();
    }
  });
  runner.join();
  canceller.join();
  int bad = 0, runner_won = 0, canceller_won = 0;
  for (int i = 0; i < kRounds; ++i) {
    bool ok = (started[i] != cancelled[i]) && (!started[i] || finished[i]) && cs[i].done();
    if (cancelled[i]) {
      ok = ok && cs[i].state() == CompletionState::Cancelled &&
           cs[i].outcome().state == CompletionState::Cancelled;
      ++canceller_won;
    } else {
      ok = ok && cs[i].state() == CompletionState::Completed &&
           cs[i].outcome().state == CompletionState::Completed;
      ++runner_won;
    }
    if (!ok && ++bad <= 5)
      FAIL_CHECK("round " << i << ": started=" << int(started[i]) << " finished=" << int(finished[i])
                          << " cancelled=" << int(cancelled[i])
                          << " state=" << int(cs[i].state()));
  }
  CHECK(bad == 0);
  CHECK(runner_won + canceller_won == kRounds);
  MESSAGE("runner won " << runner_won << ", canceller won " << canceller_won);
}

}  // TEST_SUITE

TEST_SUITE("thread") {

TEST_CASE("a C++ body runs; status goes new -> running -> completed") {
  std::latch entered(1), release(1);
  std::atomic<bool> ran{false};
  Thread* seen_self = nullptr;
  auto t = make_thread([&](Thread& self) {
    seen_self = &self;
    entered.count_down();
    release.wait();
    ran = true;
    return completed();
  });
  CHECK(std::string(t->status_name()) == "new");
  CHECK_FALSE(t->started());
  CHECK_FALSE(t->is_alive());
  CHECK(t->ident() == 0);
  CHECK_FALSE(t->is_timer());
  CHECK(t->type_name() == std::string("tide.Thread"));

  t->start();
  entered.wait();
  CHECK(t->started());
  CHECK(t->is_alive());
  CHECK(std::string(t->status_name()) == "running");
  CHECK(t->ident() != 0);
  CHECK(t->ident() != os_tid());
  release.count_down();

  CHECK(t->wait(tide::Deadline::after(30)));
  CHECK(ran.load());
  CHECK(seen_self == t.get());
  CHECK(std::string(t->status_name()) == "completed");
  CHECK_FALSE(t->is_alive());
  CHECK(t->started());
  CHECK(t->completion().state() == CompletionState::Completed);
}

TEST_CASE("a failing body ends as failed") {
  auto t = make_thread([](Thread&) { return Outcome{CompletionState::Failed, {}, "it broke", "tb"}; });
  t->start();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK(std::string(t->status_name()) == "failed");
  CHECK(t->completion().outcome().text == "it broke");
  t->mark_error_observed();  // not logged as unhandled
}

TEST_CASE("start twice throws InvalidState") {
  std::latch release(1);
  auto t = make_thread([&](Thread&) {
    release.wait();
    return completed();
  });
  t->start();
  CHECK(thrown_kind([&] { t->start(); }) == tide::ErrorKind::InvalidState);
  release.count_down();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK(thrown_kind([&] { t->start(); }) == tide::ErrorKind::InvalidState);
  CHECK(std::string(t->status_name()) == "completed");
  // set_daemon after start is refused too.
  CHECK(thrown_kind([&] { t->set_daemon(true); }) == tide::ErrorKind::InvalidState);
}

TEST_CASE("name and daemon accessors") {
  auto t = make_thread([](Thread&) { return completed(); }, "named");
  CHECK(t->name() == "named");
  t->set_name("renamed");
  CHECK(t->name() == "renamed");
  CHECK_FALSE(t->daemon());
  t->set_daemon(true);
  CHECK(t->daemon());
  t->set_daemon(false);
  auto a = Thread::next_name();
  auto b = Thread::next_name();
  CHECK(a != b);
  CHECK(a.rfind("Thread-", 0) == 0);
  CHECK(Thread::next_name("Worker").rfind("Worker-", 0) == 0);
}

TEST_CASE("cancel of a body blocked in tide::sleep_for ends as cancelled") {
  std::latch entered(1);
  std::atomic<int> how{0};  // 1 slept through, 2 Cancelled, 3 other error
  auto t = make_thread([&](Thread&) {
    entered.count_down();
    try {
      tide::sleep_for(60);
      how = 1;
      return completed();
    } catch (const tide::Error& e) {
      how = e.kind() == tide::ErrorKind::Cancelled ? 2 : 3;
      return Outcome{CompletionState::Failed, {}, e.what(), {}};
    }
  });
  t->start();
  entered.wait();
  auto t0 = Clock::now();
  t->cancel();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK(seconds_since(t0) < 5.0);
  CHECK(how.load() == 2);
  CHECK(std::string(t->status_name()) == "cancelled");
  CHECK(t->completion().state() == CompletionState::Cancelled);
  CHECK_FALSE(t->is_alive());
}

TEST_CASE("cancel before start: the body never runs") {
  std::atomic<bool> ran{false};
  auto t = make_thread([&](Thread&) {
    ran = true;
    return completed();
  });
  t->cancel();
  CHECK(std::string(t->status_name()) == "cancelled");
  CHECK(t->wait(tide::Deadline::after(0)));
  CHECK_FALSE(ran.load());
}

TEST_CASE("cancelling the main thread is refused") {
  CHECK(thrown_kind([] { Thread::main()->cancel(); }) == tide::ErrorKind::InvalidState);
  CHECK(thrown_kind([] { Thread::main()->start(); }) == tide::ErrorKind::InvalidState);
}

TEST_CASE("Timer runs its body after the delay") {
  std::atomic<bool> ran{false};
  std::promise<Clock::time_point> ran_at;
  auto when = ran_at.get_future();
  auto t = make_thread(
      [&](Thread&) {
        ran_at.set_value(Clock::now());
        ran = true;
        return completed();
      },
      "", 0.05);
  CHECK(t->is_timer());
  auto t0 = Clock::now();
  t->start();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK(ran.load());
  REQUIRE(when.wait_for(0s) == std::future_status::ready);
  double delay = std::chrono::duration<double>(when.get() - t0).count();
  CHECK(delay >= 0.045);
  CHECK(delay < 5.0);
  CHECK(std::string(t->status_name()) == "completed");
}

TEST_CASE("Timer with delay 0 runs") {
  std::atomic<bool> ran{false};
  auto t = make_thread(
      [&](Thread&) {
        ran = true;
        return completed();
      },
      "", 0);
  CHECK(t->is_timer());
  t->start();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK(ran.load());
  CHECK(std::string(t->status_name()) == "completed");
}

TEST_CASE("a cancelled Timer never runs its body") {
  SUBCASE("cancelled while waiting out its delay") {
    std::atomic<bool> ran{false};
    auto t = make_thread(
        [&](Thread&) {
          ran = true;
          return completed();
        },
        "", 60);
    t->start();
    auto t0 = Clock::now();
    t->cancel();
    REQUIRE(t->wait(tide::Deadline::after(30)));
    CHECK(seconds_since(t0) < 5.0);
    CHECK_FALSE(ran.load());
    CHECK(std::string(t->status_name()) == "cancelled");
  }
  SUBCASE("cancelled once the OS thread is surely waiting") {
    // The timer publishes its ident under the same lock as its wait
    // context, so once ident() is set, cancel() reaches it through the
    // context (the other path than cancelling before the OS thread runs).
    std::atomic<bool> ran{false};
    auto t = make_thread(
        [&](Thread&) {
          ran = true;
          return completed();
        },
        "", 60);
    t->start();
    auto end = Clock::now() + 5s;
    while (t->ident() == 0 && Clock::now() < end) std::this_thread::yield();
    CHECK(t->ident() != 0);
    t->cancel();
    REQUIRE(t->wait(tide::Deadline::after(30)));
    CHECK_FALSE(ran.load());
    CHECK(std::string(t->status_name()) == "cancelled");
  }
  SUBCASE("cancelled before start") {
    std::atomic<bool> ran{false};
    auto t = make_thread(
        [&](Thread&) {
          ran = true;
          return completed();
        },
        "", 0);
    t->cancel();
    CHECK(std::string(t->status_name()) == "cancelled");
    CHECK_FALSE(ran.load());
  }
}

TEST_CASE("enumerate lists a running thread and not a finished one") {
  std::latch entered(1), release(1);
  auto t = make_thread([&](Thread&) {
    entered.count_down();
    release.wait();
    return completed();
  });
  CHECK_FALSE(listed(t.get()));  // not started yet
  t->start();
  entered.wait();
  auto all = Thread::enumerate();
  REQUIRE_FALSE(all.empty());
  CHECK(all.front()->name() == "MainThread");
  CHECK(listed(t.get()));
  release.count_down();
  REQUIRE(t->wait(tide::Deadline::after(30)));
  CHECK_FALSE(listed(t.get()));
}

TEST_CASE("Thread::current") {
  SUBCASE("inside a body it is that thread") {
    std::promise<Thread*> cur_p;
    auto cur = cur_p.get_future();
    std::promise<std::string> name_p;
    auto name = name_p.get_future();
    auto t = make_thread(
        [&](Thread&) {
          auto c = Thread::current();
          cur_p.set_value(c.get());
          name_p.set_value(c->name());
          CHECK_FALSE(Thread::is_main());
          return completed();
        },
        "current-check");
    t->start();
    REQUIRE(t->wait(tide::Deadline::after(30)));
    CHECK(cur.get() == t.get());
    CHECK(name.get() == "current-check");
  }
  SUBCASE("on the main thread it is MainThread") {
    REQUIRE(Thread::is_main());
    auto c = Thread::current();
    CHECK(c->name() == "MainThread");
    CHECK(c.get() == Thread::main().get());
    CHECK(c->ident() == os_tid());
    CHECK(c->is_alive());
    CHECK(std::string(c->status_name()) == "running");
  }
  SUBCASE("a foreign thread gets a Dummy") {
    std::string name;
    Thread* first = nullptr;
    Thread* second = nullptr;
    std::thread foreign([&] {
      first = Thread::current().get();
      second = Thread::current().get();
      name = Thread::current()->name();
    });
    foreign.join();
    CHECK(first == second);
    CHECK(first != Thread::main().get());
    CHECK(name.rfind("Dummy-", 0) == 0);
  }
}

TEST_CASE("os_threads: many short sequential jobs complete and reuse OS threads") {
  constexpr int kJobs = 200;
  std::set<pid_t> tids;
  int completed_count = 0;
  for (int i = 0; i < kJobs; ++i) {
    auto t = make_thread([](Thread&) { return completed(); });
    t->start();
    REQUIRE(t->wait(tide::Deadline::after(30)));
    if (t->completion().state() == CompletionState::Completed) ++completed_count;
    tids.insert(t->ident());
  }
  CHECK(completed_count == kJobs);
  CHECK(tids.count(0) == 0);
  CHECK(tids.count(os_tid()) == 0);
  MESSAGE(kJobs << " sequential Threads ran on " << tids.size() << " distinct OS threads");
  // A worker goes idle right after finishing, so sequential jobs are almost
  // always served by warm threads; one reuse in 200 is a very weak bound.
  CHECK(tids.size() < static_cast<std::size_t>(kJobs));
}

TEST_CASE("os_threads::launch runs plain jobs, concurrently when needed") {
  constexpr int kJobs = 8;
  // Owned jointly by the jobs and the test, so a job still leaving
  // notify_all() never touches a destroyed word.
  struct Shared {
    std::latch all_in{kJobs};
    std::atomic<int> done{0};
    tide::WaitWord w;
    pid_t tids[kJobs] = {};
  };
  auto sh = std::make_shared<Shared>();
  // All jobs must be running at once to pass the latch: the cache has to
  // start new OS threads when no warm one is idle.
  for (int i = 0; i < kJobs; ++i) {
    tide::os_threads::launch([sh, i] {
      sh->tids[i] = os_tid();
      sh->all_in.arrive_and_wait();
      sh->done.fetch_add(1);
      sh->w.notify_all();
    });
  }
  CHECK(tide::wait_until(sh->w, tide::Deadline::after(30), [&] { return sh->done.load() == kJobs; }));
  std::set<pid_t> distinct(std::begin(sh->tids), std::end(sh->tids));
  CHECK(distinct.size() == static_cast<std::size_t>(kJobs));
  CHECK(distinct.count(os_tid()) == 0);
}

}  // TEST_SUITE
