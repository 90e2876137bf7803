// Which function prototype a Lua closure was made from: two closures of one
// `function ... end` expression share it, so they have the same bytecode.
// Lua's API has no call for it (lua_topointer names the closure, and
// lua_getinfo cannot tell apart two functions on one line), and the only
// public alternative, comparing lua_dump output, cost submit's function
// cache ~3,000 instructions per fresh closure literal (issue 14, W4).
#pragma once
#include <lua.hpp>

namespace tide {

// The prototype of the Lua function at `idx`: equal for two closures only
// if they were made from the same prototype, and valid only while a closure
// of it is alive (compare two live closures; never keep the pointer).
// nullptr for anything else, and always when this Lua's closure layout
// failed the self-check this makes the first time (then callers compare
// dumps). May raise (memory) that first time only.
const void* proto_of(lua_State* L, int idx);

}  // namespace tide
