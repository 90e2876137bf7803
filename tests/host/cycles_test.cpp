// The shared arena's cycle collector (host/shm/cycles.hpp) without Lua:
// garbage cycles through queues and tables are freed when their last proxy
// goes (in this process, in another thread, in a fork child), and nothing
// reachable from a live proxy is freed, also while other threads use the
// cycle. Watched through the arena's bytes in use. The Lua-facing
// regression spec is tests/lua/regress/issue15_arena_cycles.lua.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/wait.hpp"
#include "queue/queue.hpp"
#include "shared_values/table.hpp"
#include "shm/cycles.hpp"
#include "sync/event.hpp"
#include "test_util.hpp"

namespace {

using tide::Deadline;
using tide::Message;
using tide::Object;
using tide::Ref;
using tide::queue::Item;
using tide::queue::Kind;
using tide::queue::Queue;
using tide::shared_values::Table;
using tide::shm::CycleCollector;
namespace sv = tide::shared_values;

constexpr int kScale = test_util::kSanitized ? 10 : 1;

std::int64_t in_use() { return tide::shm::Arena::get().bytes_in_use(); }
Deadline never() { return Deadline::never(); }

// A one-value message referring to `objects`.
Message refs(std::initializer_list<Object*> objects) {
  Message m;
  m.bytes.assign(1, 'x');
  m.count = 1;
  for (Object* o : objects) m.objects.push_back(Ref<Object>::share(o));
  return m;
}

void put(Queue& q, std::initializer_list<Object*> objects) { q.put(Item::from_message(refs(objects)), never()); }

template <class T>
Ref<T> first_object(const Message& m) {
  REQUIRE(m.objects.size() >= 1);
  auto* p = dynamic_cast<T*>(m.objects[0].get());
  REQUIRE(p != nullptr);
  return Ref<T>::share(p);
}

std::uint32_t refs_of(const tide::shm::SharedObject& o) {
  return tide::shm::ref_count(o.shared_header()->refs.load());
}

}  // namespace

TEST_SUITE("shared arena cycles") {

TEST_CASE("a queue put into itself and two tables holding each other are freed with their last proxy") {
  std::int64_t before = in_use();
  std::uint64_t freed = CycleCollector::freed();
  for (int i = 0; i < 1000; ++i) {
    auto q = Queue::create(Kind::Fifo);
    put(*q, {q.get()});
    put(*q, {q.get(), q.get()});
  }
  CHECK(in_use() == before);
  CHECK(CycleCollector::freed() == freed + 1000);
  for (int i = 0; i < 1000; ++i) {
    auto a = Table::create();
    auto b = Table::create();
    a->set(sv::key_of_string("b"), refs({b.get()}));
    b->set(sv::key_of_string("a"), refs({a.get()}));
    b->set(sv::key_of_int(1), refs({}));
  }
  CHECK(in_use() == before);
  CHECK(CycleCollector::freed() == freed + 3000);
}

TEST_CASE("a ring of 5,000 queues and tables is freed in one collection once its last proxy went") {
  std::int64_t before = in_use();
  std::uint64_t freed = CycleCollector::freed();
  const int n = 5000 / kScale;
  auto first = Queue::create(Kind::Fifo);
  {
    Ref<Queue> prev = first;
    for (int i = 1; i < n; ++i) {
      auto t = Table::create();
      auto q = Queue::create(Kind::Fifo);
      t->set(sv::key_of_int(i), refs({q.get()}));
      put(*prev, {t.get()});
      prev = q;
    }
    put(*prev, {first.get()});  // closes the ring
  }
  CHECK(CycleCollector::freed() == freed);  // `first` still reaches all of it
  first = {};
  // Closing the ring walked it all, alive: this thread now waits for more
  // roots (or its end, or a flush) before walking that much again.
  CycleCollector::flush();
  CHECK(CycleCollector::freed() == freed + 2 * std::uint64_t(n) - 1);
  CHECK(in_use() == before);
}

TEST_CASE("a long chain of tables built by prepending is not walked at every step, and is freed") {
  std::int64_t before = in_use();
  const int n = 4000 / kScale;
  {
    auto head = Table::create();
    for (int i = 0; i < n; ++i) {
      auto t = Table::create();
      t->set(sv::key_of_string("next"), refs({head.get()}));
      head = t;  // the old head's last proxy: offered, walked only now and then
    }
    Message m;
    REQUIRE(head->get(sv::key_of_string("next"), m));
    CHECK(first_object<Table>(m)->size() == 1);
  }
  // A self-cycle made now may wait for more roots (the last walk was big) ...
  {
    auto q = Queue::create(Kind::Fifo);
    put(*q, {q.get()});
  }
  CycleCollector::flush();  // ... until the thread flushes (or ends)
  CHECK(in_use() == before);
  // Freeing a big graph leaves nothing live walked: collections run at once again.
  std::uint64_t freed = CycleCollector::freed();
  {
    auto q = Queue::create(Kind::Fifo);
    put(*q, {q.get()});
  }
  CHECK(CycleCollector::freed() == freed + 1);
  CHECK(in_use() == before);
}

TEST_CASE("a member held by a proxy keeps the whole cycle and what it refers to") {
  std::int64_t before = in_use();
  auto a = Queue::create(Kind::Lifo);
  auto leaf = Table::create();
  {
    auto b = Table::create();
    b->set(sv::key_of_string("a"), refs({a.get()}));
    b->set(sv::key_of_string("leaf"), refs({leaf.get()}));
    put(*a, {b.get()});
  }
  // b is held only by a's item now; a by b's value and the proxy.
  for (int round = 0; round < 3; ++round) {
    Ref<Table> b = first_object<Table>(a->get(never()).message());
    Message back;
    REQUIRE(b->get(sv::key_of_string("a"), back));
    CHECK(first_object<Queue>(back).get()->shared_header() == a->shared_header());
    put(*a, {b.get()});
  }
  CHECK(refs_of(*leaf) == 2);  // the proxy and b's value
  a = {};
  CHECK(refs_of(*leaf) == 1);  // the cycle went, and let go of the leaf
  leaf = {};
  CHECK(in_use() == before);
}

TEST_CASE("a garbage cycle referred to by a live object is not freed; the cycle hanging off it goes with it") {
  std::int64_t before = in_use();
  auto holder = Queue::create(Kind::Fifo);
  {
    auto c = Queue::create(Kind::Priority);
    Item it = Item::from_message(refs({c.get()}));
    it.set_key(std::string(1, '\x01'));
    c->put(std::move(it), never());
    put(*holder, {c.get()});
  }
  std::uint64_t freed = CycleCollector::freed();
  for (int round = 0; round < 3; ++round) {
    Ref<Queue> c = first_object<Queue>(holder->get(never()).message());
    CHECK(c->qsize() == 1);
    Item self = c->get(never());
    CHECK(first_object<Queue>(self.message()).get()->shared_header() == c->shared_header());
    c->put(std::move(self), never());
    put(*holder, {c.get()});
  }  // c's last proxy went each round: held by `holder`, it was kept
  CHECK(CycleCollector::freed() == freed);
  CHECK(holder->qsize() == 1);
  holder = {};  // then the cycle is garbage
  CHECK(CycleCollector::freed() == freed + 1);
  CHECK(in_use() == before);
}

TEST_CASE("a cycle a fork child holds lives until the child lets go, then the child frees it") {
  std::int64_t before = in_use();
  std::int64_t with_cycle;
  pid_t pid;
  {
    auto go = tide::sync::Event::create();
    auto a = Table::create();
    auto b = Queue::create(Kind::Fifo);
    a->set(sv::key_of_string("b"), refs({b.get()}));
    a->set(sv::key_of_string("payload"), refs({}));
    put(*b, {a.get()});
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        go->wait(never());
        Ref<Table> t = first_object<Table>(b->get(never()).message());
        Message m;
        if (!t->get(sv::key_of_string("payload"), m) || m.bytes != "x") code = 2;
        put(*b, {t.get()});
      } catch (...) {
        code = 3;
      }
      // This child's proxies are the fork copies of the parent's: the
      // child-exit path drops them, and the last drop collects the cycle.
      tide::shm::release_process_references();
      _exit(code);
    }
    a = {};
    b = {};
    with_cycle = in_use();
    go->set();
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(with_cycle > before);
  CHECK(in_use() == before);
}

TEST_CASE("proxies a fork child let go of drop nothing more when destroyed; one made afterwards counts") {
  std::int64_t before = in_use();
  {
    auto q = Queue::create(Kind::Fifo);
    auto* h = q->shared_header();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      if (h->proxies.load() != 2) code = 2;  // the parent's and this copy
      tide::shm::release_process_references();
      if (h->proxies.load() != 1) code = 3;
      q = {};  // released already: no second drop
      if (h->proxies.load() != 1) code = 4;
      {
        Ref<Object> again = tide::shm::proxy_for(tide::shm::Arena::get().offset_of(h));
        if (h->proxies.load() != 2) code = 5;
      }
      if (h->proxies.load() != 1) code = 6;
      _exit(code);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(h->proxies.load() == 1);
    put(*q, {});
    CHECK(q->qsize() == 1);
  }
  CHECK(in_use() == before);
}

TEST_CASE("threads using a cycle reachable from a live table while others drop their proxies: nothing freed early") {
  std::int64_t before = in_use();
  auto root = Table::create();
  {
    auto q = Queue::create(Kind::Fifo);
    put(*q, {q.get()});
    root->set(sv::key_of_string("q"), refs({q.get()}));
  }
  const int rounds = 2000 / kScale;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      try {
        for (int i = 0; i < rounds; ++i) {
          Message m;
          if (!root->get(sv::key_of_string("q"), m)) {
            failures.fetch_add(1);
            return;
          }
          Ref<Queue> q = first_object<Queue>(m);
          m.clear();
          // The item is the queue itself, whoever got it last put it back.
          Item it = q->get(never());
          Ref<Queue> same = first_object<Queue>(it.message());
          if (same.get()->shared_header() != q->shared_header()) failures.fetch_add(1);
          put(*q, {same.get()});
          // and garbage of its own, collected meanwhile
          auto g = Queue::create(Kind::Simple);
          put(*g, {g.get(), q.get()});
        }  // the proxies go here: each may be the last one and try a collection
      } catch (...) {
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  Message m;
  REQUIRE(root->get(sv::key_of_string("q"), m));
  Ref<Queue> q = first_object<Queue>(m);
  CHECK(q->qsize() == 1);
  q = {};
  m.clear();
  root = {};
  CHECK(in_use() == before);
}

}  // TEST_SUITE
