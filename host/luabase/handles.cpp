#include "luabase/handles.hpp"

#include <algorithm>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "core/fork_safe.hpp"
#include "luabase/finalizer.hpp"
#include "shm/arena.hpp"

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

// How fast a state's handles charge its collector for the bytes they hold
// outside Lua (Object::footprint: a future's proxy and arena block). Lua
// starts a cycle once the heap has grown by a multiple (the pause) of what
// the last cycle kept; charges in full would start one per that much
// arena data however much live handles hold, and every cycle walks every
// live handle: with 100,000 futures live, one ran every 25,000 submits (W4
// run back to back: 4-5 cycles a run, 2.5-4 us a task instead of 1-1.5).
// So a charge is scaled by heap / (heap + arena bytes in use), both as of
// the last cycle's end: a cycle comes per as much new data, inside Lua and
// out, as the state kept, which is Lua's own rule with the arena counted.
// Dropped handles still pile up no further than that (future_spec). The
// arena is the whole process tree's, so the scale stops at 1/8: data other
// processes keep cannot let this state's garbage grow past 8 heaps' worth.
struct Pace {
  double owed = 0;           // scaled bytes not yet charged: under a kilobyte
  double scale = 1;          // heap / (heap + arena in use)
  bool cycle_ended = false;  // set by the sentinel's __gc, read at the next charge
  bool armed = false;        // a sentinel waits for the next cycle
};
constexpr const char* kPace = "tide.pace";  // registry: the Pace (full userdata)

int sentinel_gc(lua_State* L);

// Leaves a sentinel for the Pace at `pace_idx` (a full userdata, the
// sentinel's upvalue, so it outlives the chain) to mark the next cycle's
// end: an empty userdata no value refers to.
void arm_sentinel(lua_State* L, int pace_idx) {
  auto* pace = static_cast<Pace*>(lua_touserdata(L, pace_idx));
  pace->armed = false;  // until the sentinel exists (memory may fail)
  lua_pushvalue(L, pace_idx);
  at_cycle_end(L, sentinel_gc, 1);
  pace->armed = true;
}

// __gc of the sentinel: runs once per cycle, marks the cycle's end (lua_gc
// cannot be called from a finalizer) and leaves the next sentinel.
int sentinel_gc(lua_State* L) {
  static_cast<Pace*>(lua_touserdata(L, lua_upvalueindex(1)))->cycle_ended = true;
  arm_sentinel(L, lua_upvalueindex(1));
  return 0;
}

// The state's Pace, made on first use, kept in the registry and, for a
// cheap look-up, as a light userdata in the handle cache at `cache` (key 1
// beside the identities, light userdata keys), entered there last: a memory
// error before leaves no Pace half made.
Pace* pace_of(lua_State* L, int cache) {
  lua_rawgeti(L, cache, 1);
  auto* pace = static_cast<Pace*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (pace) return pace;
  pace = new (lua_newuserdatauv(L, sizeof(Pace), 0)) Pace;
  arm_sentinel(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kPace);
  lua_pushlightuserdata(L, pace);
  lua_rawseti(L, cache, 1);
  return pace;
}

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
// allocated them (lua_gc STEP adds them to its debt), scaled by its Pace, a
// kilobyte at a time (the unit it takes); the remainder waits. Not when the
// script stopped the collector: STEP would run it anyway.
void charge_collector(lua_State* L, std::size_t bytes, int cache) {
  if (bytes == 0) return;
  Pace* pace = pace_of(L, cache);
  if (!pace->armed) {  // the last one could not make its successor
    lua_getfield(L, LUA_REGISTRYINDEX, kPace);
    arm_sentinel(L, -1);
    lua_pop(L, 1);
  }
  // Not inside a finalizer (lua_gc answers -1 there): the sample waits.
  int kb_heap;
  if (pace->cycle_ended && (kb_heap = lua_gc(L, LUA_GCCOUNT)) >= 0) {
    pace->cycle_ended = false;
    // A footprint is only ever charged for shared data, so the arena exists.
    double heap = kb_heap * 1024.0 + lua_gc(L, LUA_GCCOUNTB);
    double arena = static_cast<double>(std::max<std::int64_t>(shm::Arena::get().bytes_in_use(), 0));
    pace->scale = heap > 0 ? std::max(heap / (heap + arena), 0.125) : 1;
  }
  pace->owed += static_cast<double>(bytes) * pace->scale;
  if (pace->owed < 1024) return;
  int kb = static_cast<int>(pace->owed / 1024);
  pace->owed -= kb * 1024.0;
  if (lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCSTEP, kb);
}

}  // namespace

namespace {

// A new handle for `obj` (the state's handle table at `cache`, the top),
// entered in that table, which it replaces on the stack.
void push_fresh(lua_State* L, Object* obj, const void* id, int cache) {
  const char* type = obj->type_name();
  // Create the userdata empty first (liolib's rule), then fill it.
  auto* h = static_cast<Handle*>(lua_newuserdatauv(L, sizeof(Handle), 0));
  h->obj = nullptr;
  h->cls = type;
  if (luaL_getmetatable(L, type) == LUA_TNIL) {
    lua_pop(L, 1);
    const char* module = module_for(type);
    if (!module) luaL_error(L, "no module defines %s", type);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    lua_call(L, 1, 0);
    luaL_getmetatable(L, type);
  }
  lua_setmetatable(L, -2);
  obj->retain();
  h->obj = obj;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, cache, id);
  charge_collector(L, obj->footprint(), cache);
  lua_replace(L, cache);
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
