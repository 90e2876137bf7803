// Unit tests of the shared Table (host/shared_values/table.hpp) without Lua
// and across a fork; the binding is tested by tests/lua/shared_table_spec.lua.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "queue/queue.hpp"
#include "runtime/state.hpp"
#include "shared_table.hpp"
#include "shared_values/table.hpp"

extern "C" int luaopen_tide_shared(lua_State* L);

namespace {

using tide::Message;
using tide::Ref;
using tide::shared_values::Table;
namespace sv = tide::shared_values;

Message bytes(const std::string& s) {
  Message m;
  m.bytes = s;
  m.count = 1;
  return m;
}

std::string value(const Table& t, const std::string& key) {
  Message m;
  return t.get(key, m) ? m.bytes : "<none>";
}

}  // namespace

TEST_SUITE("shared table") {

TEST_CASE("set, get, erase, size, snapshot, clear; nothing leaks") {
  std::int64_t before = tide::shm::Arena::get().bytes_in_use();
  {
    auto t = Table::create();
    for (int i = 0; i < 100; ++i) t->set(sv::key_of_int(i), bytes("v" + std::to_string(i)));
    t->set(sv::key_of_string("name"), bytes(std::string(500, 'n')));
    t->set(sv::key_of_bool(true), bytes("yes"));
    CHECK(t->size() == 102);
    CHECK(value(*t, sv::key_of_int(42)) == "v42");
    CHECK(value(*t, sv::key_of_float(42.0)) == "v42");  // integral float = integer key
    CHECK(sv::key_of_float(0.5) != sv::key_of_int(0));
    t->set(sv::key_of_int(42), bytes("replaced"));
    CHECK(value(*t, sv::key_of_int(42)) == "replaced");
    CHECK(t->size() == 102);
    CHECK(t->erase(sv::key_of_int(42)));
    CHECK_FALSE(t->erase(sv::key_of_int(42)));
    CHECK(value(*t, sv::key_of_int(42)) == "<none>");
    auto snap = t->snapshot();
    CHECK(snap.size() == 101);
    int strings = 0;
    for (auto& [k, v] : snap) strings += sv::parse_key(k).type == sv::KeyView::String;
    CHECK(strings == 1);
    t->clear();
    CHECK(t->size() == 0);
    t->set(sv::key_of_string("after"), bytes("clear"));
    CHECK(value(*t, sv::key_of_string("after")) == "clear");
  }
  CHECK(tide::shm::Arena::get().bytes_in_use() == before);
}

TEST_CASE("values keep the shared objects they refer to alive") {
  auto t = Table::create();
  {
    auto q = tide::queue::Queue::create(tide::queue::Kind::Fifo);
    q->put(tide::queue::Item::from_bytes("kept"), tide::Deadline::never());
    Message m = bytes("ref");
    m.objects.push_back(Ref<tide::Object>::share(q.get()));
    t->set(sv::key_of_string("q"), m);
  }  // our reference is gone; the table's remains
  Message m;
  REQUIRE(t->get(sv::key_of_string("q"), m));
  auto* q = dynamic_cast<tide::queue::Queue*>(m.objects.at(0).get());
  REQUIRE(q);
  CHECK(std::string(q->get(tide::Deadline::never()).bytes()) == "kept");
}

TEST_CASE("a fork child's writes are seen by the parent; Hold is re-entrant") {
  auto t = Table::create();
  t->set(sv::key_of_string("n"), bytes("0"));
  pid_t pid = fork();
  if (pid == 0) {
    int code = 0;
    try {
      Table::Hold hold(*t);
      t->set(sv::key_of_string("n"), bytes(value(*t, sv::key_of_string("n")) + "+child"));
    } catch (...) {
      code = 3;
    }
    _exit(code);
  }
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(value(*t, sv::key_of_string("n")) == "0+child");
}

TEST_CASE("Hold makes read-modify-write atomic between threads") {
  auto t = Table::create();
  t->set(sv::key_of_string("c"), bytes("0"));
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int j = 0; j < 500; ++j) {
        Table::Hold hold(*t);
        int n = std::stoi(value(*t, sv::key_of_string("c")));
        t->set(sv::key_of_string("c"), bytes(std::to_string(n + 1)));
      }
    });
  for (auto& th : ts) th.join();
  CHECK(value(*t, sv::key_of_string("c")) == "2000");
}

}  // TEST_SUITE("shared table")
