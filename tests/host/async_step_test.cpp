// A C++ host stepping a tide.async loop from its own frame loop
// (host/runtime/async_task.hpp, step_async_loop): each step returns without
// blocking, tasks advance step by step, awaited futures completed by other
// threads are picked up, and errors come out as tide::Error with their kind.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "core/error.hpp"
#include "future/future.hpp"
#include "luabase/handles.hpp"
#include "runtime/async_task.hpp"
#include "runtime/state.hpp"
#include "test_util.hpp"

namespace {

struct State {
  lua_State* L;
  State() : L(tide::runtime::new_state()) {}
  ~State() { lua_close(L); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

// Runs `code`; its one result stays on the stack. Fails the test on error.
void run(lua_State* L, const char* code) {
  if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    FAIL(lua_tostring(L, -1));
  }
}

lua_Integer global_int(lua_State* L, const char* name) {
  lua_getglobal(L, name);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

}  // namespace

TEST_CASE("a host steps a loop: one switch per step, never blocking") {
  State s;
  run(s.L, R"(
    local async = require "tide.async"
    local loop = async.new_loop()
    count = 0
    loop:spawn(function()
      for _ = 1, 3 do count = count + 1; async.sleep(0) end
    end)
    loop:spawn(function() async.sleep(3600) end)  -- a task that waits long
    return loop)");
  int loop = lua_gettop(s.L);
  CHECK(tide::runtime::step_async_loop(s.L, loop, 0));
  CHECK(global_int(s.L, "count") == 1);
  CHECK(tide::runtime::step_async_loop(s.L, loop, 0));
  CHECK(global_int(s.L, "count") == 2);
  for (int i = 0; i < 5; ++i) tide::runtime::step_async_loop(s.L, loop, 0);
  CHECK(global_int(s.L, "count") == 3);
  // Only the long sleeper is left: a step still returns at once.
  auto t0 = test_util::Clock::now();
  CHECK(tide::runtime::step_async_loop(s.L, loop, 0));
  CHECK(test_util::seconds_since(t0) < 5);
  CHECK(lua_gettop(s.L) == loop);  // the stack is as it was
}

TEST_CASE("a stepped loop picks up a future another thread completes") {
  State s;
  run(s.L, R"(
    local async = require "tide.async"
    local loop = async.new_loop()
    fut = require("tide.future").new()
    finished = 0
    loop:spawn(function() async.await(fut) finished = 1 end)
    return loop)");
  int loop = lua_gettop(s.L);
  CHECK(tide::runtime::step_async_loop(s.L, loop, 0));  // the task now awaits
  CHECK(tide::runtime::step_async_loop(s.L, loop, 0));
  CHECK(global_int(s.L, "finished") == 0);
  lua_getglobal(s.L, "fut");
  auto* f = static_cast<tide::future::Future*>(tide::test_handle(s.L, -1)->obj);
  lua_pop(s.L, 1);
  std::thread completer([f] { f->complete(tide::Outcome{tide::CompletionState::Completed, {}, {}, {}}); });
  bool more = true;
  for (int i = 0; i < 100 && more; ++i) more = tide::runtime::step_async_loop(s.L, loop, 1.0);
  completer.join();
  CHECK_FALSE(more);
  CHECK(global_int(s.L, "finished") == 1);
}

TEST_CASE("stepping a closed loop throws InvalidState; a failing step throws its kind") {
  State s;
  run(s.L, R"(
    local loop = require("tide.async").new_loop()
    loop:close()
    return loop)");
  int loop = lua_gettop(s.L);
  CHECK(test_util::thrown_kind([&] { tide::runtime::step_async_loop(s.L, loop, 0); }) ==
        tide::ErrorKind::InvalidState);
  CHECK(lua_gettop(s.L) == loop);
}
