// Argument checks that raise ArgumentError objects (API.md §0) with
// luaL_argerror's wording: "bad argument #2 to 'join' (number expected, got string)".
#pragma once
#include <lua.hpp>

#include <string_view>

#include "core/deadline.hpp"

namespace tide {

[[noreturn]] void arg_error(lua_State* L, int arg, const char* extramsg);
[[noreturn]] void type_error(lua_State* L, int arg, const char* expected);

// For "..., got X" texts. type_of: the value's type name (a userdata's
// __name), for a value of the wrong type. describe: the same, except that
// a number is shown as itself (for a number out of range). Never the text
// of a string: ThreadPool{workers="2"} reads "got string", not "got 2".
const char* type_of(lua_State* L, int idx);
const char* describe(lua_State* L, int idx);

void check_function(lua_State* L, int arg);
lua_Integer check_integer(lua_State* L, int arg);
lua_Number check_number(lua_State* L, int arg);
const char* check_string(lua_State* L, int arg, size_t* len = nullptr);
const char* opt_string(lua_State* L, int arg, const char* def);
bool opt_boolean(lua_State* L, int arg, bool def);
void check_table(lua_State* L, int arg);

// A file system path: a string without zero bytes (the C library would
// silently use the part before the first one).
const char* check_path(lua_State* L, int arg);

// A signal given by name ("SIGTERM" or "TERM") or number (0..64).
int check_signal(lua_State* L, int arg);

// nil -> never; a number >= 0 -> that many seconds from now. Booleans are
// not timeouts (ArgumentError), here or anywhere.
Deadline check_timeout(lua_State* L, int arg);

// Options tables: every key of the table at `arg` must be one of
// `accepted` (a nullptr-terminated list); otherwise ArgumentError naming
// the unknown key and the accepted ones. A nil `arg` passes.
void check_options(lua_State* L, int arg, const char* const* accepted);

// The same check for Lua-side callers (tide._check_options): the table at
// `opts`, reported as argument `n` of `fname`, against the strings of the
// array at `accepted`.
void check_options_named(lua_State* L, int opts, int n, const char* fname, int accepted);

}  // namespace tide
