#include "luabase/finalizer.hpp"

namespace tide {

void push_finalizer(lua_State* L, lua_CFunction gc, int nup) {
  lua_pushcclosure(L, gc, nup);
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 1);
  lua_rotate(L, -3, -1);  // the closure on top: userdata, table, closure
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
}

void at_cycle_end(lua_State* L, lua_CFunction gc, int nup) {
  push_finalizer(L, gc, nup);
  lua_pop(L, 1);
}

void run_at_close(lua_State* L, const char* key, lua_CFunction gc) {
  push_finalizer(L, gc);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

}  // namespace tide
