/* tide.so: `require "tide"` in a stock lua5.4 lands here. */
#include <lua.h>

int tide_open_module(lua_State* L);

__attribute__((visibility("default"))) int luaopen_tide(lua_State* L) { return tide_open_module(L); }
