// The embedding API's bridge into Lua (host.cpp): running C functions
// under lua_pcall, turning Lua errors into tide::Error, and moving Values
// in and out of a state. Everything here that may raise a Lua error runs
// inside run_protected, where no C++ object with a destructor is live.
#pragma once
#include <lua.hpp>

#include <string>

#include "tide.hpp"

namespace tide::embed {

// Calls body(L) with `ctx` as its only argument (a light userdata) under
// lua_pcall; the stack above its base then holds body's results, their
// count returned. Throws tide::Error (the Lua error's kind, message and
// traceback; RemoteError for a value that is not a tide error) with the
// stack back at its base.
int run_protected(lua_State* L, lua_CFunction body, void* ctx);

// Pushes a Value. Raises (Lua) only on out-of-memory: use under run_protected.
void push_value(lua_State* L, const Value& v);

// The `n` values on top of the stack as Values (popped). Throws
// TransferError for a table, function or userdata.
Values take_values(lua_State* L, int n);

// Pushes what `name` names: a global, or a dotted path whose first part is
// a global or else a module to require ("game.crunch"). Raises (Lua).
void push_named(lua_State* L, const std::string& name);

}  // namespace tide::embed
