// Unit tests of host/queue without Lua, in one process: order per kind,
// priority keys, Full/Empty/Closed, batches, task accounting, select,
// cancellation, threads. Across processes: queue_process_test.cpp.
//
// Items are raw bytes (Item::from_bytes); ordering is by joins and the
// queues themselves, never sleeps. Under sanitizers big counts are scaled down.
#include <sched.h>

#include <atomic>
#include <thread>
#include <vector>

#include "queue_test_util.hpp"

using namespace queue_test;

TEST_SUITE("queue") {

TEST_CASE("FIFO, LIFO and Simple order; inline and arena-stored items") {
  std::int64_t before = tide::shm::Arena::get().bytes_in_use();
  {
    std::string big(1000, 'x');
    auto fifo = Queue::create(Kind::Fifo);
    auto lifo = Queue::create(Kind::Lifo);
    auto simple = Queue::create(Kind::Simple);
    for (auto* q : {fifo.get(), lifo.get(), simple.get()}) {
      q->put(item("a"), never());
      q->put(item(big), never());
      q->put(item("c"), never());
      CHECK(q->qsize() == 3);
    }
    CHECK(text(fifo->get(never())) == "a");
    CHECK(text(fifo->get(never())) == big);
    CHECK(text(lifo->get(never())) == "c");
    CHECK(text(lifo->get(never())) == big);
    CHECK(text(simple->get(never())) == "a");
    CHECK(std::string(fifo->type_name()) == "tide.Queue");
    CHECK(std::string(simple->type_name()) == "tide.SimpleQueue");
    // Items left in a queue are freed with it.
  }
  CHECK(tide::shm::Arena::get().bytes_in_use() == before);
}

TEST_CASE("a ring grows past its first size and keeps FIFO order across wrap-around") {
  auto q = Queue::create(Kind::Fifo);
  std::uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 37 + round * 3; ++i) q->put(num(next_in++), never());
    for (int i = 0; i < 30; ++i) CHECK(num_of(q->get(never())) == next_out++);
  }
  while (!q->empty()) CHECK(num_of(q->get(never())) == next_out++);
  CHECK(next_out == next_in);
}

TEST_CASE("negative maxsize is ArgumentError") {
  CHECK(thrown([] { Queue::create(Kind::Fifo, -1); }) == ErrorKind::ArgumentError);
}

TEST_CASE("Full and Empty at timeout 0 and after a small timeout") {
  auto q = Queue::create(Kind::Fifo, 2);
  CHECK(thrown([&] { q->get(now()); }) == ErrorKind::Empty);
  CHECK(thrown([&] { q->get(Deadline::after(0.01)); }) == ErrorKind::Empty);
  q->put(item("1"), now());
  q->put(item("2"), now());
  CHECK(q->full());
  Item extra = item("3");
  CHECK(thrown([&] { q->put(std::move(extra), now()); }) == ErrorKind::Full);
  CHECK(thrown([&] { q->put(item("3"), Deadline::after(0.01)); }) == ErrorKind::Full);
  CHECK(q->qsize() == 2);
}

TEST_CASE("a blocked put resumes when a get makes room") {
  auto q = Queue::create(Kind::Fifo, 1);
  q->put(item("first"), never());
  std::thread t([&] { q->put(item("second"), never()); });
  CHECK(text(q->get(never())) == "first");
  CHECK(text(q->get(never())) == "second");
  t.join();
}

TEST_CASE("PriorityQueue: lowest first, equal priorities in insertion order") {
  auto q = Queue::create(Kind::Priority);
  q->put(prio(5, "five"), never());
  q->put(prio(1, "one-a"), never());
  q->put(prio(3, "three"), never());
  q->put(prio(1, "one-b"), never());
  q->put(prio(1, "one-c"), never());
  q->put(prio(-2, "minus"), never());
  for (const char* want : {"minus", "one-a", "one-b", "one-c", "three", "five"})
    CHECK(text(q->get(never())) == want);
}

TEST_CASE("PriorityQueue: many random keys come out sorted and stable") {
  auto q = Queue::create(Kind::Priority);
  std::uint64_t x = 88172645463325252ull;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    auto p = static_cast<std::int64_t>(x % 50);
    Item it = prio(p, std::to_string(p) + ":" + std::to_string(i));
    q->put(std::move(it), never());
  }
  long last_p = -1, last_i = -1;
  int out_of_order = 0;
  while (!q->empty()) {
    std::string t = text(q->get(never()));
    long p = std::stol(t), i = std::stol(t.substr(t.find(':') + 1));
    if (p < last_p || (p == last_p && i < last_i)) ++out_of_order;
    last_p = p;
    last_i = i;
  }
  CHECK(out_of_order == 0);
}

TEST_CASE("priority keys compare like Python tuples") {
  auto key = [](auto&& build) {
    KeyBuilder kb;
    build(kb);
    return kb.take();
  };
  std::string i1 = key([](KeyBuilder& k) { k.add_int(1); });
  std::string f15 = key([](KeyBuilder& k) { k.add_float(1.5); });
  std::string s_a = key([](KeyBuilder& k) { k.add_string("a"); });
  std::string s_ab = key([](KeyBuilder& k) { k.add_string("ab"); });
  std::string t1 = key([](KeyBuilder& k) { k.open(); k.add_int(1); k.close(); });
  std::string t12 = key([](KeyBuilder& k) { k.open(); k.add_int(1); k.add_int(2); k.close(); });
  std::string t1x = key([](KeyBuilder& k) { k.open(); k.add_int(1); k.opaque(); });
  std::string t1s = key([](KeyBuilder& k) { k.open(); k.add_int(1); k.add_string("z"); k.close(); });
  CHECK(compare_keys(i1, f15) == Order::Less);
  CHECK(compare_keys(f15, i1) == Order::Greater);
  CHECK(compare_keys(s_a, s_ab) == Order::Less);
  CHECK(compare_keys(i1, s_a) == Order::Incomparable);
  CHECK(compare_keys(t1, t12) == Order::Less);   // shorter tuple first
  CHECK(compare_keys(t1x, t12) == Order::Equal); // stops at the opaque element
  CHECK(compare_keys(t1, t1x) == Order::Less);   // ended before an element
  CHECK(compare_keys(t12, t1s) == Order::Incomparable);
  CHECK(compare_keys_total(i1, s_a) < 0);
  std::string big = key([](KeyBuilder& k) { k.add_int(INT64_MAX); });
  std::string bigf = key([](KeyBuilder& k) { k.add_float(9223372036854775808.0); });
  CHECK(compare_keys(big, bigf) == Order::Less);  // exact, not via double rounding
}

TEST_CASE("PriorityQueue refuses an item it cannot order and stays usable") {
  auto q = Queue::create(Kind::Priority);
  q->put(prio(1, "one"), never());
  KeyBuilder kb;
  kb.add_string("text");
  Item bad = item("bad");
  bad.set_key(kb.take());
  CHECK(thrown([&] { q->put(std::move(bad), never()); }) == ErrorKind::ArgumentError);
  CHECK(q->qsize() == 1);
  CHECK(text(q->get(never())) == "one");
}

TEST_CASE("close: put raises Closed, get drains then raises Closed, blocked getters wake") {
  auto q = Queue::create(Kind::Fifo);
  std::atomic<int> kind{-1};
  std::thread waiter([&] {
    try {
      q->get(never());
    } catch (const tide::Error& e) {
      kind = static_cast<int>(e.kind());
    }
  });
  while (q->waiting_getters() == 0) sched_yield();
  q->close();
  waiter.join();
  CHECK(kind == static_cast<int>(ErrorKind::Closed));
  CHECK(q->closed());

  auto q2 = Queue::create(Kind::Fifo);
  q2->put(item("left"), never());
  q2->close();
  q2->close();  // idempotent
  CHECK(thrown([&] { q2->put(item("late"), never()); }) == ErrorKind::Closed);
  CHECK(text(q2->get(never())) == "left");
  CHECK(thrown([&] { q2->get(never()); }) == ErrorKind::Closed);
  CHECK(thrown([&] { q2->get(now()); }) == ErrorKind::Closed);
}

TEST_CASE("put_many and get_many move batches in order, across the ring's end") {
  for (Kind kind : {Kind::Fifo, Kind::Simple, Kind::Lifo}) {
    auto q = Queue::create(kind, kind == Kind::Simple ? 0 : 5);
    ItemBatch batch;
    for (int i = 0; i < 8; ++i) batch.add(num(static_cast<std::uint64_t>(i)));
    if (kind == Kind::Simple) {
      CHECK(q->put_many(batch, now()) == 8);
      continue;
    }
    CHECK(q->put_many(batch, now()) == 5);  // room for 5; the rest stay with the caller
    CHECK(batch.size() == 3);
    ItemBatch got;
    q->get_many(got, 3, never());
    REQUIRE(got.size() == 3);
    CHECK(num_of(Item::from_bytes(got.bytes(2))) == (kind == Kind::Fifo ? 2u : 2u));
    got.clear();
    q->get_many(got, 100, never());
    CHECK(got.size() == 2);
    CHECK(thrown([&] { q->get_many(got, 1, now()); }) == ErrorKind::Empty);
  }
  auto q = Queue::create(Kind::Fifo);
  std::uint64_t in = 0, out = 0;
  for (int round = 0; round < 40; ++round) {  // wraps around and grows
    ItemBatch batch;
    for (int i = 0; i < 7 + round; ++i) batch.add(num(in++));
    q->put_many(batch, never());
    ItemBatch got;
    q->get_many(got, 5 + round / 2, never());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(num_of(Item::from_bytes(got.bytes(i))) == out++);
  }
  ItemBatch rest;
  while (!q->empty()) q->get_many(rest, 1000, never());
  for (std::size_t i = 0; i < rest.size(); ++i) CHECK(num_of(Item::from_bytes(rest.bytes(i))) == out++);
  CHECK(out == in);
}

TEST_CASE("task_done and join") {
  auto q = Queue::create(Kind::Fifo);
  CHECK(q->join(now()));
  q->put(item("a"), never());
  q->put(item("b"), never());
  CHECK_FALSE(q->join(now()));
  std::thread worker([&] {
    for (int i = 0; i < 2; ++i) {
      q->get(never());
      q->task_done();
    }
  });
  CHECK(q->join(never()));
  worker.join();
  CHECK(thrown([&] { q->task_done(); }) == ErrorKind::InvalidState);
}

TEST_CASE("a blocked get is cancellable") {
  auto q = Queue::create(Kind::Fifo);
  std::atomic<tide::WaitContext*> ctx{nullptr};
  std::atomic<int> kind{-1};
  std::thread t([&] {
    ctx = &tide::WaitContext::current();
    try {
      q->get(never());
    } catch (const tide::Error& e) {
      kind = static_cast<int>(e.kind());
    }
  });
  while (q->waiting_getters() == 0) sched_yield();
  ctx.load()->request_cancel();
  t.join();
  CHECK(kind == static_cast<int>(ErrorKind::Cancelled));
}

TEST_CASE("select: first queue in order, Timeout, Closed, no queues") {
  auto a = Queue::create(Kind::Fifo), b = Queue::create(Kind::Fifo);
  Queue* qs[] = {a.get(), b.get()};
  Item out;
  CHECK(thrown([&] { select(qs, now(), out); }) == ErrorKind::Timeout);
  CHECK(thrown([&] { select(qs, Deadline::after(0.01), out); }) == ErrorKind::Timeout);
  b->put(item("from b"), never());
  a->put(item("from a"), never());
  CHECK(select(qs, never(), out) == 0);
  CHECK(text(out) == "from a");
  CHECK(select(qs, never(), out) == 1);
  std::thread later([&] { b->put(item("woke"), never()); });
  CHECK(select(qs, never(), out) == 1);  // blocks until the put
  CHECK(text(out) == "woke");
  later.join();
  CHECK(thrown([&] { select(std::span<Queue* const>(), never(), out); }) == ErrorKind::ArgumentError);
  std::thread closer([&] { a->close(); b->close(); });
  CHECK(thrown([&] { select(qs, never(), out); }) == ErrorKind::Closed);
  closer.join();
}

TEST_CASE("several producer and consumer threads: every item exactly once") {
  const int producers = 4, consumers = 4, per = 20000 / kScale;
  auto q = Queue::create(Kind::Fifo, 64);
  std::vector<std::atomic<int>> seen(producers * per);
  std::vector<std::thread> ts;
  for (int c = 0; c < consumers; ++c)
    ts.emplace_back([&] {
      try {
        for (;;) seen[num_of(q->get(never()))].fetch_add(1);
      } catch (const tide::Error&) {
      }
    });
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p)
    ps.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) q->put(num(static_cast<std::uint64_t>(p * per + i)), never());
    });
  for (auto& t : ps) t.join();
  q->close();
  for (auto& t : ts) t.join();
  int bad = 0;
  for (auto& s : seen) bad += s.load() != 1;
  CHECK(bad == 0);
}

TEST_CASE("big items while the ring grows past the shrink size and shrinks again") {
  // Arena-stored items (> 31 bytes), a backlog big enough that the ring
  // outgrows kShrinkAbove, drained while a producer keeps putting, twice.
  const std::uint64_t n = 150000 / kScale;
  auto q = Queue::create(Kind::Fifo);
  auto big = [](std::uint64_t i) { return std::to_string(i) + std::string(40, '.'); };
  for (int round = 0; round < 2; ++round) {
    for (std::uint64_t i = 0; i < n; ++i) q->put(item(big(i)), never());
    std::atomic<std::uint64_t> bad{0};
    std::thread producer([&] {
      for (std::uint64_t i = n; i < 2 * n; ++i) q->put(item(big(i)), never());
    });
    for (std::uint64_t i = 0; i < 2 * n; ++i) {
      std::string t = text(q->get(never()));
      if (t != big(i)) bad.fetch_add(1);
    }
    producer.join();
    CHECK(bad.load() == 0);
    CHECK(q->empty());
  }
}

}  // TEST_SUITE("queue")

