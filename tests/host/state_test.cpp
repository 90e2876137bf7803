// Unit tests of the state factory and of running a transferred call
// (host/runtime/state.hpp, host/runtime/run_call.hpp), with payloads made by
// the transfer codec (host/codec/codec.hpp) in one state and run in another.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "codec/codec.hpp"
#include "core/message.hpp"
#include "core/error.hpp"
#include "runtime/run_call.hpp"
#include "runtime/state.hpp"
#include "thread/completion.hpp"

namespace {

// Owns a state made by runtime::new_state().
struct State {
  lua_State* L;
  State() : L(tide::runtime::new_state()) {}
  ~State() { lua_close(L); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  operator lua_State*() const { return L; }
};

// Runs `code` in L; returns "" on success, else the error message. The
// chunk's results are left on the stack.
std::string run(lua_State* L, const char* code) {
  if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(non-string error)";
    lua_pop(L, 1);
    return msg;
  }
  return "";
}

// Evaluates `expr` in L as a boolean.
bool truthy(lua_State* L, const std::string& expr) {
  int top = lua_gettop(L);
  std::string err = run(L, ("return " + expr).c_str());
  if (!err.empty()) {
    FAIL_CHECK("error evaluating `" << expr << "`: " << err);
    return false;
  }
  bool b = lua_toboolean(L, top + 1);
  lua_settop(L, top);
  return b;
}

// Builds a payload in `src`: the chunk `fn_code` must return the function,
// and `args_code` (a chunk returning any number of values) its arguments.
tide::Message make_payload(lua_State* src, const char* fn_code, const char* args_code = "return") {
  int top = lua_gettop(src);
  std::string err = run(src, fn_code);
  REQUIRE_MESSAGE(err.empty(), err);
  REQUIRE(lua_gettop(src) == top + 1);
  err = run(src, args_code);
  REQUIRE_MESSAGE(err.empty(), err);
  int n = lua_gettop(src) - top;
  tide::Message payload;
  tide::codec::encode(src, top + 1, n, payload, {"argument", 0});
  CHECK(payload.count == n);
  CHECK(lua_gettop(src) == top + n);  // encode leaves the stack alone
  lua_settop(src, top);
  return payload;
}

}  // namespace

TEST_SUITE("state") {

TEST_CASE("new_state has the standard libraries") {
  State L;
  for (const char* lib : {"string", "table", "math", "io", "os", "utf8", "coroutine", "debug", "package"}) {
    CAPTURE(lib);
    CHECK(truthy(L, std::string("type(") + lib + ") == 'table'"));
  }
  CHECK(truthy(L, "type(print) == 'function' and type(require) == 'function'"));
  CHECK(truthy(L, "string.rep('ab', 3) == 'ababab'"));
  CHECK(truthy(L, "math.maxinteger == 0x7fffffffffffffff"));
  CHECK(truthy(L, "_VERSION == 'Lua 5.4'"));
  CHECK(lua_gettop(L) == 0);
}

TEST_CASE("new_state preloads the tide modules") {
  State L;
  CHECK(truthy(L, "type(package.preload['tide']) == 'function'"));
  CHECK(truthy(L, "type(package.preload['tide.thread']) == 'function'"));
  CHECK(truthy(L, "type(package.preload['tide.log']) == 'function'"));
  // Loaded lazily: nothing is required yet.
  CHECK(truthy(L, "package.loaded['tide'] == nil and package.loaded['tide.thread'] == nil"));

  CHECK(truthy(L, "type(require 'tide') == 'table'"));
  CHECK(truthy(L, "require 'tide' == require 'tide'"));
  CHECK(truthy(L, "type(require 'tide'.version) == 'string'"));
  CHECK(truthy(L, "type(require 'tide'.sleep) == 'function'"));
  CHECK(truthy(L, "type(require 'tide.thread') == 'table'"));
  CHECK(truthy(L, "package.loaded['tide.thread'] == require 'tide.thread'"));
  // The root module loads submodules on first access.
  CHECK(truthy(L, "require 'tide'.thread == require 'tide.thread'"));

  lua_getfield(L, LUA_REGISTRYINDEX, "tide.Error");
  CHECK(lua_type(L, -1) == LUA_TTABLE);
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, "tide.installed");
  CHECK(lua_toboolean(L, -1));
  lua_pop(L, 1);

  // install() on an installed state is a no-op.
  CHECK_NOTHROW(tide::runtime::install(L));
  CHECK(truthy(L, "type(package.preload['tide']) == 'function'"));
  CHECK(lua_gettop(L) == 0);
}

TEST_CASE("tide error objects work in a fresh state") {
  State L;
  CHECK(truthy(L, "require 'tide'.is_error(require 'tide'.error('Timeout', 'late'), 'Timeout')"));
  CHECK(truthy(L, "tostring(require 'tide'.error('Timeout', 'late')) == 'Timeout: late'"));
  CHECK(truthy(L, "getmetatable(require 'tide'.error('Closed', 'x')) == debug.getregistry()['tide.Error']"));
}

TEST_CASE("cost of new_state + lua_close") {
  constexpr int kIters = 200;
  // Warm-up: the first state registers the standard library once per process.
  lua_close(tide::runtime::new_state());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) {
    lua_State* L = tide::runtime::new_state();
    REQUIRE(L != nullptr);
    lua_close(L);
  }
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("new_state()+lua_close: " << us / kIters << " us per state (mean of " << kIters << ")");

  // Same, with `require "tide"` and `require "tide.thread"` as a worker would.
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) {
    lua_State* L = tide::runtime::new_state();
    lua_getglobal(L, "require");
    lua_pushstring(L, "tide.thread");
    lua_call(L, 1, 0);
    lua_close(L);
  }
  us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("new_state()+require 'tide.thread'+lua_close: " << us / kIters << " us per state");
}

TEST_CASE("run_call runs an encoded function with its arguments in another state") {
  State src, dst;
  tide::Message payload = make_payload(
      src,
      "return function(a, s, t, ...) "
      "  return a * 2, s:upper(), t.k + 1, select('#', ...), nil, 0.5, true, ... "
      "end",
      "return 21, 'abc', {k = 41}, 'x', 'y'");
  CHECK(payload.count == 6);

  tide::Outcome out = tide::runtime::run_call(dst, payload);
  CHECK(out.state == tide::CompletionState::Completed);
  CHECK(out.text.empty());
  CHECK(lua_gettop(dst) == 0);  // run_call leaves the stack as it was
  REQUIRE(out.values.count == 9);

  // Decode the results in a third state (and the source) and compare.
  for (lua_State* L : {static_cast<lua_State*>(src), static_cast<lua_State*>(dst)}) {
    int n = tide::codec::decode(L, out.values);
    REQUIRE(n == 9);
    REQUIRE(lua_gettop(L) == 9);
    CHECK(lua_isinteger(L, 1));
    CHECK(lua_tointeger(L, 1) == 42);
    CHECK(std::string(lua_tostring(L, 2)) == "ABC");
    CHECK(lua_tointeger(L, 3) == 42);
    CHECK(lua_tointeger(L, 4) == 2);
    CHECK(lua_isnil(L, 5));
    CHECK(lua_type(L, 6) == LUA_TNUMBER);
    CHECK_FALSE(lua_isinteger(L, 6));
    CHECK(lua_tonumber(L, 6) == 0.5);
    CHECK(lua_type(L, 7) == LUA_TBOOLEAN);
    CHECK(lua_toboolean(L, 7));
    CHECK(std::string(lua_tostring(L, 8)) == "x");
    CHECK(std::string(lua_tostring(L, 9)) == "y");
    lua_settop(L, 0);
  }

  // The payload is not consumed: it can run again, in a third state.
  State third;
  tide::Outcome again = tide::runtime::run_call(third, payload);
  CHECK(again.state == tide::CompletionState::Completed);
  CHECK(again.values.count == 9);
  CHECK(again.values.bytes == out.values.bytes);
}

TEST_CASE("run_call returns tables and closures with upvalues") {
  State src, dst;
  tide::Message payload = make_payload(
      src,
      "local n = 10 "
      "return function(t) "
      "  n = n + #t "
      "  return {sum = n, list = {t[3], t[2], t[1]}}, function() return n end "
      "end",
      "return {1, 2, 3}");
  tide::Outcome out = tide::runtime::run_call(dst, payload);
  REQUIRE(out.state == tide::CompletionState::Completed);
  REQUIRE(out.values.count == 2);
  State check;
  REQUIRE(tide::codec::decode(check, out.values) == 2);
  lua_setglobal(check, "f");
  lua_setglobal(check, "r");
  CHECK(truthy(check, "r.sum == 13 and r.list[1] == 3 and r.list[2] == 2 and r.list[3] == 1"));
  CHECK(truthy(check, "type(f) == 'function' and f() == 13"));
}

TEST_CASE("run_call of a raising function returns Failed with text and traceback") {
  State src, dst;
  SUBCASE("a string error") {
    tide::Message payload = make_payload(
        src,
        "return function(what) "
        "  local function inner() error('kaboom: ' .. what) end "
        "  inner() "
        "end",
        "return 'bad'");
    tide::Outcome out = tide::runtime::run_call(dst, payload);
    CHECK(out.state == tide::CompletionState::Failed);
    CHECK(out.text.find("kaboom: bad") != std::string::npos);
    CHECK(out.traceback.find("stack traceback") != std::string::npos);
    CHECK(out.traceback.find("inner") != std::string::npos);
    CHECK(lua_gettop(dst) == 0);
    // The error value itself comes back.
    REQUIRE(out.values.count == 1);
    REQUIRE(tide::codec::decode(src, out.values) == 1);
    REQUIRE(lua_type(src, -1) == LUA_TSTRING);
    CHECK(std::string(lua_tostring(src, -1)).find("kaboom: bad") != std::string::npos);
    lua_settop(src, 0);
  }
  SUBCASE("a tide error object") {
    tide::Message payload = make_payload(
        src, "return function() error(require 'tide'.error('Timeout', 'too late')) end");
    tide::Outcome out = tide::runtime::run_call(dst, payload);
    CHECK(out.state == tide::CompletionState::Failed);
    CHECK(out.text == "Timeout: too late");
    CHECK(out.traceback.find("stack traceback") != std::string::npos);
    REQUIRE(out.values.count == 1);
    REQUIRE(tide::codec::decode(src, out.values) == 1);
    lua_setglobal(src, "e");
    CHECK(truthy(src, "require 'tide'.is_error(e, 'Timeout') and e.message == 'too late'"));
    CHECK(truthy(src, "type(e.traceback) == 'string' and e.traceback:find('stack traceback') ~= nil"));
  }
  SUBCASE("a non-string error value") {
    tide::Message payload = make_payload(src, "return function() error({code = 7}) end");
    tide::Outcome out = tide::runtime::run_call(dst, payload);
    CHECK(out.state == tide::CompletionState::Failed);
    CHECK(out.text.find("table") != std::string::npos);
    CHECK(out.traceback.find("stack traceback") != std::string::npos);
    REQUIRE(out.values.count == 1);
    REQUIRE(tide::codec::decode(src, out.values) == 1);
    lua_setglobal(src, "e");
    CHECK(truthy(src, "type(e) == 'table' and e.code == 7"));
  }
  SUBCASE("a result that cannot be transferred") {
    tide::Message payload = make_payload(src, "return function() return coroutine.create(print) end");
    tide::Outcome out = tide::runtime::run_call(dst, payload);
    CHECK(out.state == tide::CompletionState::Failed);
    CHECK(out.text.find("TransferError") != std::string::npos);
    CHECK(lua_gettop(dst) == 0);
  }
  CHECK(lua_gettop(dst) == 0);
}

TEST_CASE("C functions cross states by name") {
  State src, dst;
  SUBCASE("print from one state arrives as the destination's print") {
    lua_getglobal(src, "print");
    tide::Message m;
    tide::codec::encode(src, -1, 1, m);
    lua_pop(src, 1);
    REQUIRE(tide::codec::decode(dst, m) == 1);
    lua_getglobal(dst, "print");
    CHECK(lua_rawequal(dst, -1, -2));
    lua_settop(dst, 0);
  }
  SUBCASE("require (a closure) arrives as the destination's require") {
    lua_getglobal(src, "require");
    tide::Message m;
    tide::codec::encode(src, -1, 1, m);
    lua_pop(src, 1);
    REQUIRE(tide::codec::decode(dst, m) == 1);
    lua_getglobal(dst, "require");
    CHECK(lua_rawequal(dst, -1, -2));
    lua_settop(dst, 0);
  }
  SUBCASE("through run_call, as argument and as result") {
    tide::Message payload = make_payload(
        src, "return function(p, sf) return p == print, sf == string.format, p, table.concat end",
        "return print, string.format");
    tide::Outcome out = tide::runtime::run_call(dst, payload);
    REQUIRE(out.state == tide::CompletionState::Completed);
    REQUIRE(tide::codec::decode(src, out.values) == 4);
    CHECK(lua_toboolean(src, 1));
    CHECK(lua_toboolean(src, 2));
    lua_getglobal(src, "print");
    CHECK(lua_rawequal(src, 3, -1));
    lua_pop(src, 1);
    lua_setglobal(src, "tc");
    CHECK(truthy(src, "tc == table.concat"));
    lua_settop(src, 0);
  }
}

TEST_CASE("an unregistered C function is a TransferError") {
  State src;
  lua_pushcfunction(src, [](lua_State*) -> int { return 0; });
  tide::Message m;
  tide::ErrorKind kind = tide::ErrorKind::OSError;
  try {
    tide::codec::encode(src, -1, 1, m);
    FAIL_CHECK("encode did not throw");
  } catch (const tide::Error& e) {
    kind = e.kind();
  }
  CHECK(kind == tide::ErrorKind::TransferError);
  CHECK(lua_gettop(src) == 1);
  lua_settop(src, 0);
}

}  // TEST_SUITE
