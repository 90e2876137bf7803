// The C++ embedding API (host/tide.hpp), as a program uses it: no Lua C API
// except to register a module. Futures are awaited with get() or pumped;
// the only bounded waits are hang detectors.
#include <doctest/doctest.h>
#include <lua.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "tide.hpp"

using tide::ErrorKind;
using tide::Host;
using tide::Value;
using tide::Values;

namespace {

int twice(lua_State* L) {
  lua_pushinteger(L, 2 * luaL_checkinteger(L, 1));
  return 1;
}

int open_embedtest(lua_State* L) {
  static const luaL_Reg fns[] = {{"twice", twice}, {nullptr, nullptr}};
  luaL_newlib(L, fns);
  return 1;
}

template <class F>
ErrorKind kind_of(F&& f) {
  try {
    f();
  } catch (const tide::Error& e) {
    return e.kind();
  }
  FAIL_CHECK("did not throw");
  return ErrorKind::OSError;
}

// Pumps until `pred` holds; false after 20 s (a hang detector).
template <class P>
bool pump_until(Host& h, P&& pred) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    h.pump(0.001);
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_SUITE("embedding API") {
  TEST_CASE("call passes C++ values in and returns every result") {
    Host h;
    h.run_string("function f(a, b, c, d, e) return a + 1, b, c .. '!', d, e, 0.5 end");
    Values r = h.call("f", {41, true, "hi", nullptr, std::string("a\0b", 3)});
    REQUIRE(r.size() == 6);
    CHECK(r[0].integer() == 42);
    CHECK(r[1].boolean());
    CHECK(r[2].string() == "hi!");
    CHECK(r[3].is_nil());
    CHECK(r[4].string() == std::string("a\0b", 3));
    CHECK(r[5].number() == 0.5);
    CHECK(h.call("string.rep", {"ab", 3}).at(0).string() == "ababab");
  }

  TEST_CASE("a Lua error arrives as tide::Error with kind, message and traceback") {
    Host h;
    h.run_string("function boom() error('bad thing') end\n"
                 "function typed() error(require('tide').error('Timeout', 'too slow')) end",
                 "=chunk");
    try {
      h.call("boom");
      FAIL("no error");
    } catch (const tide::Error& e) {
      CHECK(e.kind() == ErrorKind::RemoteError);
      CHECK(std::string(e.what()).find("bad thing") != std::string::npos);
      CHECK(e.traceback().find("chunk:1") != std::string::npos);
    }
    CHECK(kind_of([&] { h.call("typed"); }) == ErrorKind::Timeout);
    CHECK(kind_of([&] { h.run_string("this is not lua"); }) == ErrorKind::RemoteError);
    CHECK(kind_of([&] { h.call("no_such_function"); }) == ErrorKind::RemoteError);
    CHECK(kind_of([&] { h.call("print.x"); }) == ErrorKind::RemoteError);
    CHECK(kind_of([&] { h.call("setmetatable", {}); }) == ErrorKind::RemoteError);
    CHECK(kind_of([&] { h.run_file("/nonexistent/file.lua"); }) == ErrorKind::RemoteError);
    CHECK(kind_of([&] { h.require("no.such.module"); }) == ErrorKind::RemoteError);
    // The host still works afterwards.
    CHECK(h.call("tostring", {7}).at(0).string() == "7");
  }

  TEST_CASE("results that cannot reach C++ are a TransferError; Value accessors check types") {
    Host h;
    h.run_string("function t() return {1, 2} end");
    CHECK(kind_of([&] { h.call("t"); }) == ErrorKind::TransferError);
    CHECK(kind_of([] { Value(1).string(); }) == ErrorKind::ArgumentError);
    CHECK(kind_of([] { Value("x").integer(); }) == ErrorKind::ArgumentError);
    CHECK(Value(3).number() == 3.0);
    CHECK(Value().to_string() == "nil");
  }

  TEST_CASE("submit runs a Lua function on the pool; get returns its results") {
    Host h;
    h.run_string("function add(a, b) return a + b, 'done' end");
    tide::Future f = h.submit("add", {40, 2});
    Values r = f.get(20);
    CHECK(r.at(0).integer() == 42);
    CHECK(r.at(1).string() == "done");
    CHECK(f.ready());
  }

  TEST_CASE("a registered module is opened in pool workers: its C function runs there") {
    Host::register_module("embedtest", open_embedtest);
    Host h;
    CHECK(h.call("embedtest.twice", {4}).at(0).integer() == 8);
    CHECK(h.submit("embedtest.twice", {21}).get(20).at(0).integer() == 42);
    h.run_string("function via_module(n) return require('embedtest').twice(n) + 1 end");
    CHECK(h.submit("via_module", {10}).get(20).at(0).integer() == 21);
  }

  TEST_CASE("then() callbacks run in pump(), on the host's thread, once each") {
    Host h(tide::HostOptions{.workers = 2});
    h.run_string("function sq(x) return x * x end");
    const std::thread::id me = std::this_thread::get_id();
    int done = 0, sum = 0;
    bool other_thread = false;
    for (int i = 1; i <= 50; ++i) {
      h.submit("sq", {i}).then([&](tide::Future& f) {
        sum += static_cast<int>(f.get().at(0).integer());
        ++done;
        other_thread |= std::this_thread::get_id() != me;
      });
    }
    REQUIRE(pump_until(h, [&] { return done == 50; }));
    CHECK(sum == 42925);
    CHECK_FALSE(other_thread);
    CHECK(h.pump() == 0);  // nothing left: returns at once
  }

  TEST_CASE("a failing task throws its error from get(); timeouts and misuse are errors") {
    Host h;
    h.run_string("function fails() error('in the worker') end");
    tide::Future f = h.submit("fails");
    try {
      f.get(20);
      FAIL("no error");
    } catch (const tide::Error& e) {
      CHECK(e.kind() == ErrorKind::RemoteError);
      CHECK(std::string(e.what()).find("in the worker") != std::string::npos);
      CHECK_FALSE(e.traceback().empty());
    }
    // A worker sees the function's upvalues, not the host's globals.
    h.run_string("gate = require('tide.sync').Event()\n"
                 "local g = gate\n"
                 "function wait_gate() g:wait() return 'open' end");
    tide::Future g = h.submit("wait_gate");
    CHECK(kind_of([&] { g.get(0.05); }) == ErrorKind::Timeout);
    CHECK_FALSE(g.ready());
    g.then([](tide::Future&) {});
    CHECK(kind_of([&] { g.then([](tide::Future&) {}); }) == ErrorKind::InvalidState);
    h.run_string("gate:set()");
    CHECK(g.get(20).at(0).string() == "open");
  }

  TEST_CASE("module_path, log level and the host's Lua state") {
    char dir[] = "/tmp/tide_embed_XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string path = std::string(dir) + "/greet.lua";
    std::ofstream(path) << "return { hello = function(n) return 'hello ' .. n end }";
    Host h(tide::HostOptions{.log_level = "error", .module_path = {dir}});
    CHECK(h.call("greet.hello", {"you"}).at(0).string() == "hello you");
    CHECK(h.state() != nullptr);
    std::remove(path.c_str());
    CHECK(kind_of([] { Host bad(tide::HostOptions{.log_level = "loud"}); }) == ErrorKind::ArgumentError);
  }

  TEST_CASE("a Future outliving its Host says so instead of touching a closed state") {
    std::optional<tide::Future> f;
    {
      Host h;
      h.run_string("function one() return 1 end");
      f.emplace(h.submit("one"));
      CHECK(f->get(20).at(0).integer() == 1);
    }
    CHECK(kind_of([&] { f->get(0); }) == ErrorKind::InvalidState);
  }
}
