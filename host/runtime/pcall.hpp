// Base-library functions tide states replace, keeping their semantics:
// - pcall and xpcall (yieldable, via continuations), except that an error
//   caught while the calling thread is being cancelled, or while a
//   cancelled tide.async task unwinds (async_task.hpp), is raised again, so
//   user code cannot swallow Cancelled;
// - print, which writes each line with one fwrite so lines printed by
//   concurrent threads never interleave mid-line.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// Replaces _G.pcall, _G.xpcall and _G.print in L.
void install_pcall(lua_State* L);

}  // namespace tide::runtime
