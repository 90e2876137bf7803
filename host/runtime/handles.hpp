// How tide objects appear in Lua: a full userdata holding one Handle, whose
// metatable (registered under the object's type_name()) has `__tide = true`.
// The codec transfers handles by reference through these functions.
#pragma once
#include <lua.hpp>

#include "core/object.hpp"

namespace tide {

struct Handle {
  Object* obj;  // owned reference; nullptr once closed
};

// The Handle at `idx` if that slot holds a tide userdata, else nullptr.
// Never raises.
Handle* test_handle(lua_State* L, int idx) noexcept;

// Pushes the handle for `obj`: the state's live handle of the same
// identity (Object::identity) if it has one, so one tide object is one
// value (rawequal, one table key); else a new one retaining `obj`. The metatable is looked up
// by obj->type_name(); if the state has not loaded the module defining the
// type yet, it is required first. May raise a Lua error.
void push_handle(lua_State* L, Object* obj);

// Declares that handles of `type_name` get their metatable from loading
// `module` (e.g. "tide.Thread" from "tide.thread"). Called once per type at
// static-initialisation time by the bindings.
void register_handle_type(const char* type_name, const char* module);

}  // namespace tide
