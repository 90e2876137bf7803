// The interactive loop of `tide` with no script (or -i): reads a chunk
// (continuing lines while it is incomplete), runs it, prints its results.
#pragma once
#include <lua.hpp>

namespace tide::repl {

void run(lua_State* L);

}  // namespace tide::repl
