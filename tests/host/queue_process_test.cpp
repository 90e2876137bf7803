// Unit tests of host/queue across fork() children: items (and a queue
// inside an item) put by children and got by the parent, a child killed
// while blocked in get, a child dying with the queue's locks held, and
// 8 threads + 2 processes x 100,000 items through one bounded queue.
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "queue_test_util.hpp"

using namespace queue_test;

TEST_SUITE("queue across processes") {

TEST_CASE("fork children put items (with a queue inside one) that the parent gets") {
  auto q = Queue::create(Kind::Fifo);
  auto inner = Queue::create(Kind::Simple);
  inner->put(item("inside"), never());
  pid_t kids[2];
  for (int k = 0; k < 2; ++k)
    kids[k] = fork_child([&, k] {
      for (int i = 0; i < 100; ++i) q->put(num(static_cast<std::uint64_t>(k * 100 + i)), never());
      tide::Message m;
      m.bytes = "ref";
      m.count = 1;
      m.objects.push_back(Ref<tide::Object>::share(inner.get()));
      q->put(Item::from_message(m), never());
      return 0;
    });
  std::vector<int> seen(200);
  int refs = 0;
  for (int i = 0; i < 202; ++i) {
    Item it = q->get(never());
    if (it.has_objects()) {
      tide::Message m = it.message();
      auto* got = dynamic_cast<Queue*>(m.objects.at(0).get());
      REQUIRE(got);
      CHECK(got->offset() == inner->offset());
      ++refs;
    } else {
      seen.at(num_of(it))++;
    }
  }
  for (pid_t p : kids) CHECK(wait_exit(p) == 0);
  CHECK(refs == 2);
  for (int s : seen) CHECK(s == 1);
  CHECK(text(inner->get(never())) == "inside");
}

TEST_CASE("a child SIGKILLed while blocked in get does not break the queue") {
  auto q = Queue::create(Kind::Fifo, 4);
  pid_t child = fork_child([&] {
    q->get(never());
    return 9;  // never reached: nothing is put before the kill
  });
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (q->waiting_getters() == 0 && std::chrono::steady_clock::now() < give_up) sched_yield();
  REQUIRE(q->waiting_getters() > 0);
  kill(child, SIGKILL);
  CHECK(wait_exit(child) == -SIGKILL);
  q->put(item("after"), now());
  CHECK(text(q->get(now())) == "after");
  std::thread t([&] { q->put(item("woken"), never()); });
  CHECK(text(q->get(never())) == "woken");
  t.join();
}

TEST_CASE("a child that dies holding the queue's lock leaves it usable (robust mutex)") {
  auto q = Queue::create(Kind::Fifo);
  q->put(item("kept"), never());
  QueueData* data = queue_data(q->shared_header());
  pid_t child = fork_child([&] {
    data->put_mutex.lock();
    data->get_mutex.lock();
    return 0;  // exits holding both
  });
  CHECK(wait_exit(child) == 0);
  q->put(item("more"), now());
  CHECK(text(q->get(now())) == "kept");
  CHECK(text(q->get(now())) == "more");
}

TEST_CASE("8 threads and 2 processes x 100,000 items, one bounded queue, 4 consumers") {
  const int per = 100000 / kScale, threads = 8, procs = 2, consumers = 4;
  const int total = (threads + procs) * per;
  auto q = Queue::create(Kind::Fifo, 1000);
  std::vector<pid_t> kids;
  for (int k = 0; k < procs; ++k)  // before any thread of this test starts
    kids.push_back(fork_child([&, k] {
      for (int i = 0; i < per; ++i) q->put(num(static_cast<std::uint64_t>((threads + k) * per + i)), never());
      return 0;
    }));
  std::unique_ptr<std::atomic<std::uint8_t>[]> seen(new std::atomic<std::uint8_t>[total]);
  for (int i = 0; i < total; ++i) seen[i] = 0;
  std::vector<std::thread> cs, ps;
  for (int c = 0; c < consumers; ++c)
    cs.emplace_back([&] {
      try {
        for (;;) seen[num_of(q->get(never()))].fetch_add(1);
      } catch (const tide::Error&) {
      }
    });
  for (int p = 0; p < threads; ++p)
    ps.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) q->put(num(static_cast<std::uint64_t>(p * per + i)), never());
    });
  for (auto& t : ps) t.join();
  for (pid_t k : kids) CHECK(wait_exit(k) == 0);
  q->close();
  for (auto& t : cs) t.join();
  int missing = 0, duplicated = 0;
  for (int i = 0; i < total; ++i) {
    missing += seen[i] == 0;
    duplicated += seen[i] > 1;
  }
  CHECK(missing == 0);
  CHECK(duplicated == 0);
}

}  // TEST_SUITE("queue across processes")
