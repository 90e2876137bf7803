// What luaL_newstate adds to lua_newstate, for states tide makes with an
// allocator of its own from their first block: the panic function, and the
// warning function (off until warn("@on"), as the stock interpreter has it).
// Lua 5.4 offers no way to read a state's warning function, so these are
// written again here, with lauxlib's behaviour and messages.
#pragma once
#include <lua.hpp>

namespace tide {

// Installs them on L (just made by lua_newstate).
void set_aux_defaults(lua_State* L) noexcept;

}  // namespace tide
