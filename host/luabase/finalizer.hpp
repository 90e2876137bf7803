// Code that runs when Lua collects an otherwise empty userdata: at the end
// of a collection cycle (one no value refers to), or at lua_close (one the
// registry keeps). The one way tide gets either: the collector pace's and
// the block cache's cycle-end sentinels, the block cache's release, joining
// threads at a stock interpreter's close.
#pragma once
#include <lua.hpp>

namespace tide {

// Pushes an empty userdata whose one metamethod, __gc, is `gc` closed over
// the `nup` values on top of the stack (popped). May raise (memory).
void push_finalizer(lua_State* L, lua_CFunction gc, int nup = 0);

// The same, left unreferenced: `gc` runs at the end of the next collection
// cycle (and may call this again to run at every one). May raise (memory).
void at_cycle_end(lua_State* L, lua_CFunction gc, int nup = 0);

// A finalizer the registry keeps under `key`: `gc` runs when L closes.
// May raise (memory).
void run_at_close(lua_State* L, const char* key, lua_CFunction gc);

}  // namespace tide
