#include "support/userdata.hpp"

namespace tide {

namespace {

// Metamethods can be fetched with getmetatable and called on anything:
// only a tide handle is ever treated as one. __gc runs once per handle, so
// it checks the class tag (upvalue 1: the class's name, as push_handle
// writes it) rather than looking the metatable up in the registry, which
// cost ~450 instructions per future (issue 14, W4). A handle moved to
// another class's metatable by the debug library keeps its reference.
int handle_gc(lua_State* L) {
  const void* tag = lua_touserdata(L, lua_upvalueindex(1));
  if (Handle* h = handle_of_class(L, 1, [tag](const char* cls) { return cls == tag; })) release_handle(h);
  return 0;
}

int handle_tostring(lua_State* L) {
  Handle* h = test_handle(L, 1);
  if (!h) type_error(L, 1, "tide object");
  luaL_getmetafield(L, 1, "__name");
  lua_pushfstring(L, "%s (%s): %p", lua_tostring(L, -1), h && h->obj ? "open" : "released",
                  h ? static_cast<void*>(h->obj) : nullptr);
  return 1;
}

// __index: methods first (upvalue 1), then the class getter (upvalue 2).
int handle_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (lua_isnil(L, lua_upvalueindex(2))) return 0;
  auto getter = lua_tocfunction(L, lua_upvalueindex(2));
  lua_settop(L, 2);
  return getter(L);
}

}  // namespace

bool release_handle(Handle* h) noexcept {
  Object* o = h->obj;
  if (!o) return false;
  h->obj = nullptr;
  o->release();
  return true;
}

void define_class(lua_State* L, const ClassSpec& spec, const char* module) {
  register_handle_type(spec.type_name, module);
  if (!luaL_newmetatable(L, spec.type_name)) {
    lua_pop(L, 1);
    return;
  }
  mark_handle_metatable(L, -1);
  lua_pushlightuserdata(L, const_cast<char*>(spec.type_name));
  lua_pushcclosure(L, handle_gc, 1);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, handle_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_setfuncs(L, spec.methods, 0);
  if (spec.getter)
    lua_pushcfunction(L, spec.getter);
  else
    lua_pushnil(L);
  lua_pushcclosure(L, handle_index, 2);
  lua_setfield(L, -2, "__index");
  if (spec.metamethods) luaL_setfuncs(L, spec.metamethods, 0);
  lua_pop(L, 1);
}

Handle* check_handle(lua_State* L, int arg, const char* type_name) {
  auto* h = static_cast<Handle*>(luaL_testudata(L, arg, type_name));
  if (!h) type_error(L, arg, type_name);
  return h;
}

}  // namespace tide
