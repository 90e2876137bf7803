// Lua-side tide error objects (API.md §0): tables with fields kind, message,
// traceback, cause and the shared metatable registry["tide.Error"] whose
// __tostring gives "Kind: message". Tables (not userdata) so they cross
// states through the codec like any value.
#pragma once
#include <lua.hpp>

#include <string_view>

#include "core/error.hpp"

namespace tide {

inline constexpr const char* kErrorMeta = "tide.Error";

// Creates registry["tide.Error"] if missing. Every tide state has it.
void open_error_meta(lua_State* L);

// Pushes a new error object. `cause_idx` 0 means no cause. The message and
// traceback keep every byte (zeros included).
void push_error(lua_State* L, ErrorKind kind, std::string_view message,
                std::string_view traceback = {}, int cause_idx = 0);

// Raises a new error object (never returns).
[[noreturn]] void raise_error(lua_State* L, ErrorKind kind, const char* fmt, ...);

// The error value a signal handler raised inside a wait (PendingLuaError):
// stash_pending_error pops it into the registry; take_pending_error pushes
// it and clears the slot, returning false (nothing pushed) if there is none.
void stash_pending_error(lua_State* L);
bool take_pending_error(lua_State* L);

// True if the value at idx is a tide error (of `kind` when non-null).
bool is_error(lua_State* L, int idx, const char* kind = nullptr);

}  // namespace tide
