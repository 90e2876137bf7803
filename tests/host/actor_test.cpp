// Unit tests of the actor half of the pool core (host/pool/actor.hpp and
// Options::actor) without Lua: a one-worker pool whose fake runner echoes
// each task's argument bytes and counts init() and finish(), reached
// through an ActorRef (also one rebuilt from its arena offset, as a decoded
// ref in another state is). Orderings come from futures and a gate, never
// from sleeps; bounded waits are hang detectors.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/log.hpp"
#include "future/future.hpp"
#include "pool/actor.hpp"
#include "pool/thread_pool.hpp"
#include "shm/arena.hpp"
#include "test_util.hpp"

namespace {

using namespace test_util;
using tide::CompletionState, tide::Deadline, tide::ErrorKind, tide::Message, tide::Outcome, tide::Ref;
using tide::future::Future, tide::pool::ActorRef, tide::pool::Pool, tide::pool::Task, tide::pool::TaskRunner;

constexpr double kHang = 10;

struct Counts {
  std::atomic<int> inits{0}, finishes{0};
  bool fail_init = false;
  tide::WaitWord gate_word;
  std::atomic<int> gate{0};
};

class Runner final : public TaskRunner {
 public:
  explicit Runner(std::shared_ptr<Counts> c) : c_(std::move(c)) {}
  Outcome init() noexcept override {
    c_->inits.fetch_add(1);
    if (!c_->fail_init) return Outcome{};
    Outcome o{CompletionState::Failed, Message{"cause", {}, 1}, "bad init", {}, ErrorKind::RemoteError};
    return o;
  }
  Outcome run(const Task& task) noexcept override {
    if (task.fn->message.bytes == "wait")
      tide::wait_until(c_->gate_word, Deadline::after(kHang), [&] { return c_->gate.load() != 0; });
    return Outcome{CompletionState::Completed, task.args, {}, {}};
  }
  void finish() noexcept override { c_->finishes.fetch_add(1); }

 private:
  std::shared_ptr<Counts> c_;
};

Ref<Pool> actor_pool(const std::shared_ptr<Counts>& c, const char* name) {
  tide::pool::Options o{.workers = 1, .name = name};
  o.actor = true;
  o.runner = [c]() -> std::unique_ptr<TaskRunner> { return std::make_unique<Runner>(c); };
  return Pool::create(std::move(o));
}

std::shared_ptr<const tide::pool::FunctionBlob> blob(const char* action) {
  auto fn = std::make_shared<tide::pool::FunctionBlob>();
  fn->message = Message{action, {}, 1};
  return fn;
}

Ref<Future> call(const Ref<ActorRef>& a, const std::string& id, const char* action = "echo") {
  return a->call(blob(action), Message{id, {}, 1});
}

Outcome result(const Ref<Future>& f) {
  return f->wait(Deadline::after(kHang)) ? f->outcome() : Outcome{CompletionState::Pending};
}

struct QuietLog {
  tide::log::Level old = tide::log::level();
  QuietLog() { tide::log::set_level(tide::log::Level::off); }
  ~QuietLog() { tide::log::set_level(old); }
};

}  // namespace

TEST_SUITE("actor") {

TEST_CASE("calls through a ref (and a ref rebuilt from its offset) run in order; shutdown runs finish once") {
  auto c = std::make_shared<Counts>();
  auto p = actor_pool(c, "Echo");
  auto a = ActorRef::create(p->shared_part(), p->name(), false, false);
  CHECK(a->name() == "Echo");
  CHECK(!a->is_process());
  CHECK(a->alive());
  Ref<tide::Object> obj = tide::shm::proxy_for(a->offset());  // what decoding a ref makes
  auto b = Ref<ActorRef>::share(dynamic_cast<ActorRef*>(obj.get()));
  REQUIRE(b);
  CHECK(b->name() == "Echo");
  auto held = call(a, "0", "wait");
  auto f1 = call(b, "1");
  auto f2 = call(a, "2");
  c->gate.store(1);
  c->gate_word.notify_all();
  CHECK(result(held).values.bytes == "0");
  CHECK(result(f1).values.bytes == "1");
  CHECK(result(f2).values.bytes == "2");
  CHECK(f1->done_stamp() < f2->done_stamp());
  p->shutdown(true, false);
  CHECK(c->inits.load() == 1);
  CHECK(c->finishes.load() == 1);
  CHECK(!a->alive());
  CHECK(!b->dead());
  CHECK(thrown_kind([&] { call(b, "3"); }) == ErrorKind::WorkerDied);
}

TEST_CASE("stop() from a ref (a destroy from another process) drains the mailbox and finishes") {
  auto c = std::make_shared<Counts>();
  auto p = actor_pool(c, "Stopped");
  auto a = ActorRef::create(p->shared_part(), p->name(), false, false);
  auto f = call(a, "x");
  a->stop();
  a->stop();  // idempotent
  CHECK(result(f).values.bytes == "x");
  p->join(Deadline::after(kHang));
  CHECK(c->finishes.load() == 1);
  CHECK(!a->alive());
}

TEST_CASE("terminate does not finish; a failing init kills the actor with WorkerDied and its cause") {
  QuietLog quiet;
  auto c = std::make_shared<Counts>();
  {
    auto p = actor_pool(c, "Term");
    auto a = ActorRef::create(p->shared_part(), p->name(), false, false);
    CHECK(result(call(a, "y")).state == CompletionState::Completed);
    p->terminate(true);
    CHECK(c->finishes.load() == 0);
  }
  auto bad = std::make_shared<Counts>();
  bad->fail_init = true;
  auto p = actor_pool(bad, "Bad");
  auto a = ActorRef::create(p->shared_part(), p->name(), false, false);
  p->shutdown(false, false);
  p->join(Deadline::after(kHang));
  CHECK(p->broken());
  Outcome o = p->broken_outcome();
  CHECK(o.failure_kind == ErrorKind::WorkerDied);
  CHECK(o.text == "actor 'Bad' is dead: creating it raised: bad init");
  CHECK(o.values.bytes == "cause");
  CHECK(a->dead());
  CHECK(!a->alive());
  CHECK(thrown_kind([&] { call(a, "z"); }) == ErrorKind::WorkerDied);
  CHECK(bad->finishes.load() == 0);
}

TEST_CASE("an actor and its refs leave no arena memory behind") {
  Future::create();  // the process tree's FutureTree exists from here on
  auto before = tide::shm::Arena::get().bytes_in_use();
  {
    auto c = std::make_shared<Counts>();
    auto p = actor_pool(c, "Mem");
    auto a = ActorRef::create(p->shared_part(), "a long actor name, stored in the arena", false, false);
    for (int i = 0; i < 100; ++i) CHECK(result(call(a, std::to_string(i))).values.bytes == std::to_string(i));
    p->shutdown(true, false);  // the worker has let go of its last task
  }
  CHECK(tide::shm::Arena::get().bytes_in_use() == before);
}

}  // TEST_SUITE
