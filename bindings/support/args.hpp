// Argument checks that raise ArgumentError objects (API.md §0) with
// luaL_argerror's wording: "bad argument #2 to 'join' (number expected, got string)".
#pragma once
#include <lua.hpp>

#include "core/deadline.hpp"

namespace tide {

[[noreturn]] void arg_error(lua_State* L, int arg, const char* extramsg);
[[noreturn]] void type_error(lua_State* L, int arg, const char* expected);

void check_function(lua_State* L, int arg);
lua_Integer check_integer(lua_State* L, int arg);
lua_Number check_number(lua_State* L, int arg);
const char* check_string(lua_State* L, int arg, size_t* len = nullptr);
const char* opt_string(lua_State* L, int arg, const char* def);
bool opt_boolean(lua_State* L, int arg, bool def);
void check_table(lua_State* L, int arg);

// A signal given by name ("SIGTERM" or "TERM") or number (0..64).
int check_signal(lua_State* L, int arg);

// nil -> never; a number >= 0 -> that many seconds from now.
Deadline check_timeout(lua_State* L, int arg);

}  // namespace tide
