// support/proto_identity: a closure's prototype, read through a mirror of
// Lua 5.4's closure layout that a self-check vets on first use.
#include <doctest.h>
#include <lua.hpp>

#include "support/proto_identity.hpp"

namespace {

struct State {
  lua_State* L = luaL_newstate();
  State() { luaL_openlibs(L); }
  ~State() { lua_close(L); }
  void run(const char* chunk, int results) {
    REQUIRE(luaL_loadstring(L, chunk) == LUA_OK);
    lua_call(L, 0, results);
  }
};

}  // namespace

TEST_CASE("closures of one prototype share it; other functions and values have another or none") {
  State s;
  s.run("local function make(k) return function(x) return x + k end end\n"
        "local src = 'return function(x) return x + 1 end'\n"
        "return make(1), make(2), function(x) return x + 1 end, load(src)(), load(src)(), print, 42", 7);
  const void* a = tide::proto_of(s.L, 1);
  REQUIRE(a != nullptr);  // the self-check passed on this Lua 5.4
  CHECK(tide::proto_of(s.L, 2) == a);  // the same expression, other upvalues
  CHECK(tide::proto_of(s.L, 3) != a);
  // The same source loaded twice: equal bytecode, two prototypes.
  CHECK(tide::proto_of(s.L, 4) != nullptr);
  CHECK(tide::proto_of(s.L, 4) != tide::proto_of(s.L, 5));
  CHECK(tide::proto_of(s.L, 6) == nullptr);  // a C function
  CHECK(tide::proto_of(s.L, 7) == nullptr);
  CHECK(tide::proto_of(s.L, -1) == nullptr);
  CHECK(lua_gettop(s.L) == 7);  // the check left the stack as it was
}
