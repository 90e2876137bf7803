// An exhaustive check of the wake discipline of core/wait_point.hpp: every
// interleaving of one producer and several consumers of a queue, step by
// step (each step one shared access; the protocol's fences make the
// interleaving model sequentially consistent), including a consumer
// cancelled while it waits and one that times out after a look.
//
// Properties, in every reachable state:
//  - no lost wake-up: no end state (nobody can move) has a consumer asleep
//    while an item waits;
//  - no storm: a wake system call that finds only waiters already woken
//    and not yet run (the storm of a protocol without `wake_pending`: every
//    put meanwhile made one) happens only after an overtaken notify, one
//    whose waiter looked (and cleared the flag) before its FUTEX_WAKE
//    landed, so that wake woke a waiter with the flag clear; at most one
//    such wasted call per overtaken notify.
// The same checker run on broken variants of the protocol (no baton, a look
// that does not clear the flag, a cancel that does not pass the wake on, no
// `wake_pending` at all) finds the lost wake-up or the storm, so the checks
// can fail.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "test_util.hpp"

namespace {

struct Config {
  int puts = 3;
  int consumers = 2;
  int gets = 2;  // per consumer
  bool cancel = false;
  bool timeout = false;
  // Switches for the broken variants.
  bool baton = true;
  bool look_clears = true;
  bool cancel_passes_on = true;
  bool coalesce = true;  // the wake_pending flag
};

// Program counters. A notify (WaitPoint::notify_one) is five steps, shared
// by the producer's put, a consumer's baton and a cancelled consumer.
enum : std::uint8_t {
  N_ANNOUNCED = 1,  // read announced
  N_PENDING,        // read wake_pending
  N_EXCHANGE,       // exchange wake_pending, 1
  N_SEQ,            // word.seq++
  N_WAKE,           // if word.waiters: FUTEX_WAKE(1)
};

enum : std::uint8_t {
  C_TRY = 1,   // under the lock: take an item if there is one
  C_ANNOUNCE,  // announced++
  C_SNAP,      // seen = seq
  C_CLEAR,     // wake_pending = 0 (the look)
  C_PRED,      // items > 0 ?
  C_WAITERS,   // word.waiters++
  C_FUTEX,     // FUTEX_WAIT(seq, seen): sleep unless seq moved
  C_UNWAIT,    // word.waiters--, back to C_SNAP
  C_LEAVE,     // announced-- after pred held, then C_TAKE
  C_TAKE,      // relock, take (or wait again)
  C_CANCEL,    // catch: waiters-- if counted, announced--, pending = 0, notify
  C_DONE,
  C_QUIT,      // cancelled or timed out: takes no more
};

struct Thread {
  std::uint8_t pc = 0, npc = 0;  // npc: inside a notify (its step), else 0
  std::uint8_t after = 0;        // where the notify returns to
  std::uint8_t left = 0;         // puts / gets still to do
  std::uint8_t seen = 0, waited = 0, asleep = 0, counted = 0;
  std::uint8_t woken = 0;       // a FUTEX_WAKE picked it and it has not looked since
  std::uint8_t cancelled = 0, timed_out = 0;
  std::uint8_t overtaken = 0;  // in a notify past its exchange, a waiter looked
};

struct State {
  std::uint8_t items = 0, announced = 0, pending = 0, seq = 0, waiters = 0;
  std::uint8_t wasted = 0, overtaken = 0;
  Thread t[4];  // t[0] producer, t[1..] consumers
};
static_assert(sizeof(State) == 7 + 4 * sizeof(Thread));

struct Result {
  std::size_t states = 0;
  bool lost_wakeup = false;
  int max_wasted = 0;  // wake calls that found only already-woken waiters
  bool storm = false;
};

class Checker {
 public:
  explicit Checker(Config c) : c_(c) {}

  Result run() {
    State s{};
    s.t[0].pc = 1;
    s.t[0].left = static_cast<std::uint8_t>(c_.puts);
    for (int i = 1; i <= c_.consumers; ++i) {
      s.t[i].pc = C_TRY;
      s.t[i].left = static_cast<std::uint8_t>(c_.gets);
    }
    std::vector<State> stack{s};
    while (!stack.empty()) {
      State cur = stack.back();
      stack.pop_back();
      if (!seen_.insert(cur).second) continue;
      check(cur);
      std::size_t before = stack.size();
      spontaneous_ = 0;
      for (int i = 0; i <= c_.consumers; ++i) successors(cur, i, stack);
      // Nothing but a sleeper's cancel or timeout can move: the protocol
      // itself has come to rest.
      if (stack.size() - before == spontaneous_) at_end(cur);
    }
    r_.states = seen_.size();
    return r_;
  }

 private:
  Config c_;
  Result r_;
  struct Hash {
    std::size_t operator()(const State& s) const noexcept {
      std::uint64_t h = 1469598103934665603ull;
      const auto* p = reinterpret_cast<const unsigned char*>(&s);
      for (std::size_t i = 0; i < sizeof s; ++i) h = (h ^ p[i]) * 1099511628211ull;
      return h;
    }
  };
  struct Eq {
    bool operator()(const State& a, const State& b) const noexcept { return std::memcmp(&a, &b, sizeof a) == 0; }
  };
  std::unordered_set<State, Hash, Eq> seen_;
  std::size_t spontaneous_ = 0;

  // A successor only a cancel or a timeout of a sleeper leads to.
  void spontaneous(const State& q, std::vector<State>& out) {
    out.push_back(q);
    ++spontaneous_;
  }

  void check(const State& s) {
    if (s.wasted > r_.max_wasted) r_.max_wasted = s.wasted;
    if (s.wasted > s.overtaken) r_.storm = true;
  }

  void at_end(const State& s) {
    for (int i = 1; i <= c_.consumers; ++i)
      if (s.t[i].asleep && s.items > 0) r_.lost_wakeup = true;
  }

  // One step of a notify by thread i; returns false when it has finished.
  bool notify_step(State& s, int i, std::vector<State>& out) {
    Thread& t = s.t[i];
    switch (t.npc) {
      case N_ANNOUNCED:
        t.npc = !s.announced ? 0 : c_.coalesce ? N_PENDING : N_SEQ;
        break;
      case N_PENDING:
        t.npc = s.pending ? 0 : N_EXCHANGE;
        break;
      case N_EXCHANGE:
        t.npc = s.pending ? 0 : N_SEQ;
        s.pending = 1;
        break;
      case N_SEQ:
        ++s.seq;
        t.npc = N_WAKE;
        break;
      case N_WAKE: {
        t.npc = 0;
        if (t.overtaken) ++s.overtaken;
        t.overtaken = 0;
        if (s.waiters == 0) break;
        bool any = false;
        for (int j = 1; j <= c_.consumers; ++j) {
          if (!s.t[j].asleep) continue;
          any = true;
          State n = s;
          n.t[j].asleep = 0;
          n.t[j].woken = 1;
          n.t[j].pc = C_UNWAIT;
          n.t[i].pc = n.t[i].after;
          out.push_back(n);
        }
        if (!any) {
          // Threads counted in `waiters` but not asleep: about to sleep (its
          // FUTEX_WAIT will see the bumped seq) or woken and not run yet.
          bool about_to_sleep = false;
          for (int j = 1; j <= c_.consumers; ++j) about_to_sleep |= s.t[j].counted && !s.t[j].woken;
          if (!about_to_sleep) ++s.wasted;
          s.t[i].pc = s.t[i].after;
          out.push_back(s);
        }
        return true;
      }
      default:
        break;
    }
    if (t.npc == 0) t.pc = t.after;
    out.push_back(s);
    return true;
  }

  void start_notify(Thread& t, std::uint8_t after) {
    t.npc = N_ANNOUNCED;
    t.after = after;
  }

  void successors(const State& in, int i, std::vector<State>& out) {
    State s = in;
    Thread& t = s.t[i];
    if (t.npc) {
      notify_step(s, i, out);
      return;
    }
    if (i == 0) {  // the producer: put = items++ (under its lock), then notify
      if (t.pc == 0 || t.left == 0) return;
      ++s.items;
      --t.left;
      start_notify(t, 1);
      out.push_back(s);
      return;
    }
    switch (t.pc) {
      case C_TRY:
        if (t.left == 0) {
          t.pc = C_DONE;
        } else if (s.items > 0) {
          --s.items;
          --t.left;
          bool baton = c_.baton && t.waited && s.items > 0;
          t.waited = 0;
          t.pc = C_TRY;
          if (baton) start_notify(t, C_TRY);
        } else {
          t.pc = C_ANNOUNCE;
        }
        break;
      case C_ANNOUNCE:
        ++s.announced;
        t.waited = 1;
        t.pc = C_SNAP;
        break;
      case C_SNAP:
        t.seen = s.seq;
        t.pc = C_CLEAR;
        break;
      case C_CLEAR:
        if (c_.look_clears) s.pending = 0;
        t.woken = 0;
        for (Thread& n : s.t)
          if (n.npc == N_SEQ || n.npc == N_WAKE) n.overtaken = 1;
        t.pc = C_PRED;
        break;
      case C_PRED:
        if (s.items > 0) {
          t.pc = C_LEAVE;
        } else {
          if (c_.timeout && !t.timed_out) {  // the deadline passed after this look
            State q = s;
            q.t[i].timed_out = 1;
            --q.announced;
            q.t[i].pc = C_QUIT;
            out.push_back(q);
          }
          t.pc = C_WAITERS;
        }
        break;
      case C_WAITERS:
        ++s.waiters;
        t.counted = 1;
        t.pc = C_FUTEX;
        break;
      case C_FUTEX:
        if (c_.cancel && !t.cancelled) {  // cancelled before sleeping
          State q = s;
          q.t[i].cancelled = 1;
          q.t[i].pc = C_CANCEL;
          out.push_back(q);
        }
        if (s.seq != t.seen) {
          t.pc = C_UNWAIT;
        } else {
          t.asleep = 1;
          t.pc = 0;  // moved by a wake, a cancel or a timeout
        }
        break;
      case 0:
        // Asleep: a cancel (request_cancel bumps seq, wakes all) or a
        // timeout can end the sleep without a notify.
        if (!t.asleep) return;
        if (c_.cancel && !t.cancelled) {
          State q = s;
          q.t[i].asleep = 0;
          q.t[i].cancelled = 1;
          q.t[i].pc = C_CANCEL;
          ++q.seq;
          spontaneous(q, out);
        }
        if (c_.timeout && !t.timed_out) {
          State q = s;
          q.t[i].asleep = 0;
          q.t[i].pc = C_UNWAIT;
          spontaneous(q, out);
        }
        return;
      case C_UNWAIT:
        // wait_seq checks for cancellation after FUTEX_WAIT returns, also
        // when a notify woke it: that wake-up is then consumed.
        if (c_.cancel && !t.cancelled) {
          State q = s;
          q.t[i].cancelled = 1;
          q.t[i].pc = C_CANCEL;
          out.push_back(q);
        }
        --s.waiters;
        t.counted = 0;
        t.pc = C_SNAP;
        break;
      case C_LEAVE:
        --s.announced;
        t.pc = C_TAKE;
        break;
      case C_TAKE:
        // Relocked: take if another consumer did not get there first,
        // else wait again (wait_item's loop).
        t.pc = s.items > 0 ? C_TRY : C_ANNOUNCE;
        break;
      case C_CANCEL:
        if (t.counted) --s.waiters;
        t.counted = 0;
        --s.announced;
        s.pending = 0;
        t.woken = 0;
        for (Thread& n : s.t)
          if (n.npc == N_SEQ || n.npc == N_WAKE) n.overtaken = 1;
        if (c_.cancel_passes_on) {
          start_notify(t, C_QUIT);
        } else {
          t.pc = C_QUIT;
        }
        break;
      default:
        return;  // C_DONE, C_QUIT
    }
    out.push_back(s);
  }
};

Result check(Config c) {
  Result r = Checker(c).run();
  MESSAGE("puts=" << c.puts << " consumers=" << c.consumers << " gets=" << c.gets << " cancel=" << c.cancel
                  << " timeout=" << c.timeout << ": " << r.states << " states, at most " << r.max_wasted
                  << " wasted wake calls");
  return r;
}

// Sanitizers slow this single-threaded search down tenfold and find nothing
// in it: their builds check the same properties on smaller configurations.
constexpr int kMore = test_util::kSanitized ? 0 : 1;

void require_sound(const Result& r) {
  CHECK(r.states > 1000);
  CHECK_FALSE(r.lost_wakeup);
}

}  // namespace

TEST_SUITE("wait_point model") {

TEST_CASE("one consumer, four puts: no wake call while the woken consumer has not run") {
  Result r = check({.puts = 4, .consumers = 1, .gets = 4});
  require_sound(r);
  CHECK_FALSE(r.storm);
  CHECK(r.max_wasted <= 2);
}

TEST_CASE("two consumers, three puts: no lost wake-up") {
  require_sound(check({.puts = 2 + kMore, .consumers = 2, .gets = 2}));
}

TEST_CASE("three sleeping consumers woken one after another (the baton)") {
  require_sound(check({.puts = 1 + kMore, .consumers = 3, .gets = 1}));
}

TEST_CASE("a consumer cancelled while it waits, or just after its wake-up, passes the wake-up on") {
  require_sound(check({.puts = 2, .consumers = 2, .gets = 1, .cancel = true}));
  require_sound(check({.puts = 1 + kMore, .consumers = 2, .gets = 2, .cancel = true}));
}

TEST_CASE("a consumer that times out after a look loses nothing") {
  require_sound(check({.puts = 2, .consumers = 2, .gets = 2, .timeout = true}));
}

TEST_CASE("the checker finds the lost wake-up or the storm of each broken variant") {
  CHECK(check({.puts = 2, .consumers = 3, .gets = 1, .baton = false}).lost_wakeup);
  CHECK(check({.puts = 3, .consumers = 2, .gets = 2, .look_clears = false}).lost_wakeup);
  CHECK(check({.puts = 2, .consumers = 2, .gets = 1, .cancel = true, .cancel_passes_on = false}).lost_wakeup);
  CHECK(check({.puts = 4, .consumers = 1, .gets = 4, .coalesce = false}).storm);
}

}  // TEST_SUITE
