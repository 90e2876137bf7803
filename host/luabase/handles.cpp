#include "luabase/handles.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/fork_safe.hpp"

namespace tide {

namespace {
ForkSafeMutex g_mutex;  // a fork child finds it free (core/fork_safe.hpp)
// Values are string literals given at registration, so a looked-up name
// stays valid with no lock held and nothing to destroy if Lua raises.
std::unordered_map<std::string, const char*>& modules() {
  static std::unordered_map<std::string, const char*> m;
  return m;
}

const char* module_for(const char* type_name) {
  std::lock_guard lock(g_mutex);
  auto it = modules().find(type_name);
  return it == modules().end() ? nullptr : it->second;
}
}  // namespace

void register_handle_type(const char* type_name, const char* module) {
  std::lock_guard lock(g_mutex);
  modules()[type_name] = module;
}

// registry[&kHandleMetatables]: {[metatable] = true} for every handle class.
const char kHandleMetatables = 0;

Handle* test_handle(lua_State* L, int idx) noexcept {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return nullptr;
  bool is_tide = false;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kHandleMetatables) == LUA_TTABLE) {
    lua_pushvalue(L, -2);
    is_tide = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return is_tide ? static_cast<Handle*>(lua_touserdata(L, idx)) : nullptr;
}

void mark_handle_metatable(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kHandleMetatables) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kHandleMetatables);
  }
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

namespace {
constexpr const char* kHandleCache = "tide.handles";  // weak values: identity -> handle

// Pushes the state's handle cache, created on first use.
int push_cache(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kHandleCache) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, kHandleCache);
  }
  return lua_gettop(L);
}

// Tells L's collector about `bytes` allocated outside its heap, as if it had
// allocated them (lua_gc STEP adds them to its debt), a kilobyte at a time
// (the unit it takes); the remainder waits in this thread's account. Not
// when the script stopped the collector: STEP would run it anyway.
void charge_collector(lua_State* L, std::size_t bytes) {
  thread_local std::size_t owed = 0;
  owed += bytes;
  if (owed < 1024) return;
  int kb = static_cast<int>(owed / 1024);
  owed %= 1024;
  if (lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCSTEP, kb);
}

}  // namespace

namespace {

// A new handle for `obj` (the state's handle table at `cache`), entered in
// that table; the table is removed from the stack.
void push_fresh(lua_State* L, Object* obj, const void* id, int cache) {
  const char* type = obj->type_name();
  if (luaL_getmetatable(L, type) == LUA_TNIL) {
    lua_pop(L, 1);
    const char* module = module_for(type);
    if (!module) luaL_error(L, "no module defines %s", type);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    lua_call(L, 1, 0);
    luaL_getmetatable(L, type);
  }
  // Create the userdata empty first (liolib's rule), then fill it.
  auto* h = static_cast<Handle*>(lua_newuserdatauv(L, sizeof(Handle), 0));
  h->obj = nullptr;
  h->cls = type;
  lua_insert(L, -2);
  lua_setmetatable(L, -2);
  obj->retain();
  h->obj = obj;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, cache, id);
  lua_remove(L, cache);
  charge_collector(L, obj->footprint());
}

}  // namespace

void push_handle(lua_State* L, Object* obj) {
  // One tide object is one value in a state: the live handle of the same
  // identity, if there is one (a released handle is replaced).
  const void* id = obj->identity();
  int cache = push_cache(L);
  if (lua_rawgetp(L, cache, id) == LUA_TUSERDATA) {
    auto* h = static_cast<Handle*>(lua_touserdata(L, -1));
    if (h->obj && h->obj->identity() == id) {
      lua_remove(L, cache);
      return;
    }
  }
  lua_pop(L, 1);
  push_fresh(L, obj, id, cache);
}

void push_new_handle(lua_State* L, Object* obj) { push_fresh(L, obj, obj->identity(), push_cache(L)); }

}  // namespace tide
