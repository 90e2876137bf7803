// Handles of tide objects in Lua (see luabase/handles.hpp): class metatables,
// typed checks and pushing. A handle is created empty and filled after the
// object exists (liolib's rule). Unlike liolib's single f_gc, __gc and
// __close differ: a handle is one reference to a shared object, so __gc
// (installed by define_class) only drops that reference, idempotently
// (release_handle; the handle is then "released"), while __close, where a
// class has one (pipes, pools, processes, guards), closes or shuts down the
// object itself and comes in ClassSpec::metamethods.
#pragma once
#include <lua.hpp>

#include "core/object.hpp"
#include "luabase/handles.hpp"
#include "support/args.hpp"
#include "luabase/error.hpp"

namespace tide {

struct ClassSpec {
  const char* type_name;        // "tide.Thread": metatable name and __name
  const luaL_Reg* methods;      // reachable through __index
  // Optional: called as getter(L) with (handle, key) on the stack for keys
  // that are not methods; returns the number of results (0 = nil).
  lua_CFunction getter = nullptr;
  const luaL_Reg* metamethods = nullptr;  // extra, e.g. __newindex, __close
};

// Creates the metatable once per state (no-op if it exists) and registers
// the type with the codec so handles can be rebuilt in other states.
void define_class(lua_State* L, const ClassSpec& spec, const char* module);

// The Handle at `arg` if it is of `type_name`, else ArgumentError.
Handle* check_handle(lua_State* L, int arg, const char* type_name);

// The live object at `arg`, or ArgumentError / InvalidState (released).
template <class T>
T* check_object(lua_State* L, int arg) {
  Handle* h = check_handle(L, arg, T::kTypeName);
  if (!h->obj) raise_error(L, ErrorKind::InvalidState, "%s is released", T::kTypeName);
  return static_cast<T*>(h->obj);
}

// The live object at `arg` if its handle's class tag (luabase/handles.hpp)
// satisfies `is_class`, else ArgumentError naming `expected`, or
// InvalidState (released). The hot-path check of methods: one pointer
// compare, no metatable fetched.
template <class T, class IsClass>
T* tagged_object(lua_State* L, int arg, IsClass&& is_class, const char* expected) {
  if (Handle* h = handle_of_class(L, arg, is_class)) {
    if (h->obj) return static_cast<T*>(h->obj);
    raise_error(L, ErrorKind::InvalidState, "%s is released", h->cls);
  }
  type_error(L, arg, expected);
}

// Drops the handle's reference (idempotent). Returns whether it held one.
bool release_handle(Handle* h) noexcept;

}  // namespace tide
