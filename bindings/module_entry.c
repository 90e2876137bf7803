/* tide.so: `require "tide"` in a stock lua5.4 lands here.
 *
 * tide.so takes the Lua API from the interpreter that loads it, and its
 * imports of lua_* and luaL_* are weak (scripts/weaken_lua_imports.cpp runs
 * after linking), so it also loads into Lua 5.1-5.3 or LuaJIT: there the
 * 5.4-only functions are null, and this says which Lua tide needs instead
 * of dlopen's "undefined symbol". Only functions every Lua has are called
 * before that check. */
#include <lauxlib.h>
#include <lua.h>

#pragma weak lua_newuserdatauv
#pragma weak lua_setiuservalue
#pragma weak lua_resetthread
#pragma weak lua_version

int tide_open_module(lua_State* L);

__attribute__((visibility("default"))) int luaopen_tide(lua_State* L) {
  if (!lua_newuserdatauv || !lua_setiuservalue || !lua_resetthread) {
    if (!lua_version) return luaL_error(L, "tide.so needs Lua 5.4; this interpreter is Lua 5.1 or LuaJIT");
    /* Lua 5.2 and 5.3 return a pointer to the version number. */
    const lua_Number* (*older_version)(lua_State*) = (const lua_Number* (*)(lua_State*))(void (*)(void))lua_version;
    int v = (int)*older_version(L);
    return luaL_error(L, "tide.so needs Lua 5.4; this interpreter is Lua %d.%d", v / 100, v % 100);
  }
  return tide_open_module(L);
}
