// pcall and xpcall for tide states: the standard semantics (yieldable, via
// continuations), except that an error caught while the calling thread is
// being cancelled is raised again, so user code cannot swallow Cancelled.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// Replaces _G.pcall and _G.xpcall in L.
void install_pcall(lua_State* L);

}  // namespace tide::runtime
