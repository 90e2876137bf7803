// How tide objects appear in Lua: a full userdata holding one Handle, whose
// metatable (registered under the object's type_name()) is marked as a
// handle metatable in the state's registry, where Lua code cannot reach
// (without the debug library). A field in the metatable would not do: any
// script can set one on io.stdout's metatable. The codec transfers handles
// by reference through these functions.
#pragma once
#include <lua.hpp>

#include "core/object.hpp"

namespace tide {

struct Handle {
  Object* obj;  // owned reference; nullptr once released
  // The class tag: obj->type_name() when the handle was made, the address
  // of the name array its class owns (T::kTypeName, a `static constexpr
  // char[]`: one object in the whole program, where equal string literals
  // may be separate copies, as they are under ASan). A method compares it
  // with its class's name as a constant, with no metatable and no upvalue
  // fetched through the API (issue 14: that was a fifth of a W7 call).
  const char* cls;
};

// The Handle at `idx` if it is a tide handle whose class tag satisfies
// `is_class`, else nullptr; released handles included. Pure Lua cannot make
// a full userdata of this size with chosen bytes, and a light userdata has
// length 0, so the tag is only ever read from a real handle. Never raises.
template <class IsClass>
inline Handle* handle_of_class(lua_State* L, int idx, IsClass&& is_class) noexcept {
  auto* h = static_cast<Handle*>(lua_touserdata(L, idx));
  if (h && lua_rawlen(L, idx) == sizeof(Handle) && is_class(h->cls)) return h;
  return nullptr;
}

// The Handle at `idx` if that slot holds a tide userdata, else nullptr.
// Never raises.
Handle* test_handle(lua_State* L, int idx) noexcept;

// Marks the metatable at `idx` as a handle metatable (define_class does
// it for every class). May raise (memory).
void mark_handle_metatable(lua_State* L, int idx);

// Pushes the handle for `obj`: the state's live handle of the same
// identity (Object::identity) if it has one, so one tide object is one
// value (rawequal, one table key); else a new one retaining `obj`. The metatable is looked up
// by obj->type_name(); if the state has not loaded the module defining the
// type yet, it is required first. May raise a Lua error.
void push_handle(lua_State* L, Object* obj);

// push_handle for an object whose identity was made just now (a future
// submit created): no state can have a handle to it yet, so the look-up in
// the state's handle table, a miss in a table of every live handle, is
// skipped (W4: a few percent of a submit).
void push_new_handle(lua_State* L, Object* obj);

// Declares that handles of `type_name` get their metatable from loading
// `module` (e.g. "tide.Thread" from "tide.thread"). Called once per type at
// static-initialisation time by the bindings.
void register_handle_type(const char* type_name, const char* module);

}  // namespace tide
