// Class plumbing shared by the tide.sync and tide.shared bindings: fast
// `self` checks, class installation, timeouts, and the with/guard scopes
// of Lock, RLock, Condition and Semaphore.
//
// Hot path (W7): `lock:acquire()` finds its method through an __index
// *table* (no C call), and a method checks `self` by comparing the
// handle's class tag with its class's name pointer, a constant: no
// registry lookup, no upvalue.
//
// with/guard: if acquiring raises AbandonedLock (the caller then holds the
// lock), they release it again before re-raising, so a scope never leaves
// a lock held. A guard that is never closed keeps its lock: __gc does not
// release it (collection time is arbitrary).
#pragma once
#include <lua.hpp>

#include <utility>

#include "core/deadline.hpp"
#include "shm/shared.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync/lock.hpp"
#include "sync/rlock.hpp"
#include "sync/semaphore.hpp"

namespace tide::sync_binding {

// A handle of class T? Its tag is the type name it was made with (the
// pointer, luabase/handles.hpp); a Semaphore is also a BoundedSemaphore.
template <class T>
bool is_class(const char* cls) noexcept {
  return cls == T::kTypeName;
}
template <>
inline bool is_class<sync::Semaphore>(const char* cls) noexcept {
  return cls == sync::Semaphore::kTypeName || cls == sync::Semaphore::kBoundedTypeName;
}

// The object at argument 1, which must be a live handle of class T.
// Metamethods have (metatable, methods table, "value") as upvalues.
template <class T>
T* self(lua_State* L) {
  return tagged_object<T>(L, 1, is_class<T>, T::kTypeName);
}

// __index for classes with fields: methods (upvalue 2), then getter (upvalue 3).
inline int index_with_getter(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  lua_settop(L, 2);
  return lua_tocfunction(L, lua_upvalueindex(3))(L);
}

// Two handles of one shared object are equal.
inline int shared_eq(lua_State* L) {
  Handle* a = test_handle(L, 1);
  Handle* b = test_handle(L, 2);
  auto* sa = a && a->obj ? dynamic_cast<shm::SharedObject*>(a->obj) : nullptr;
  auto* sb = b && b->obj ? dynamic_cast<shm::SharedObject*>(b->obj) : nullptr;
  lua_pushboolean(L, sa && sb && sa->shared_header() == sb->shared_header());
  return 1;
}

// define_class plus: the methods; __index the
// methods table (or methods then `getter`); `meta` (which may override
// __index) with (metatable, methods, "value") upvalues; __eq.
inline void install_class(lua_State* L, const char* type, const char* module, const luaL_Reg* methods,
                          lua_CFunction getter, const luaL_Reg* meta) {
  static const luaL_Reg kNoMethods[] = {{nullptr, nullptr}};
  define_class(L, ClassSpec{type, kNoMethods}, module);
  luaL_getmetatable(L, type);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);  // mt, methods
  if (getter) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_pushcfunction(L, getter);
    lua_pushcclosure(L, index_with_getter, 3);
  } else {
    lua_pushvalue(L, -1);
  }
  lua_setfield(L, -3, "__index");
  lua_pushvalue(L, -2);  // mt, methods, mt (target)
  lua_pushvalue(L, -1);  // upvalues: mt, methods, "value"
  lua_pushvalue(L, -3);
  lua_pushliteral(L, "value");
  luaL_setfuncs(L, meta, 3);
  lua_pushcfunction(L, shared_eq);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 3);
}

// acquire's arguments: nil: forever; a number: seconds; Python's blocking
// flag: true = the timeout in the next argument, false = do not block (a
// timeout beside it is an ArgumentError, as Python's ValueError). Only
// acquire takes the flag: elsewhere a boolean is not a timeout.
inline Deadline acquire_timeout(lua_State* L, int arg) {
  if (lua_type(L, arg) != LUA_TBOOLEAN) return check_timeout(L, arg);
  if (lua_toboolean(L, arg)) return check_timeout(L, arg + 1);
  if (!lua_isnoneornil(L, arg + 1)) arg_error(L, arg + 1, "a non-blocking acquire takes no timeout");
  return Deadline::after(0);
}

inline int push_state(lua_State* L, const char* what, const char* state) {
  lua_pushfstring(L, "%s (%s)", what, state);
  return 1;
}

// ---- fast paths: no protect(), no out-of-line call -------------------------

// Take / free an uncontended Lock or RLock inline; false declines (the
// caller takes the general path, which also raises the errors).
template <class T>
bool fast_lock(T*) noexcept {
  return false;
}
template <class T>
bool fast_unlock(T*) noexcept {
  return false;
}
template <>
inline bool fast_lock(sync::Lock* o) noexcept {
  std::uint64_t me = sync::process_owner_if_known();
  return me != 0 && o->data().core.try_lock(me);
}
template <>
inline bool fast_unlock(sync::Lock* o) noexcept {
  return sync::lock_release_fast(o->data());
}
// The thread token may have to be claimed (which can throw): the general
// path then claims it again under protect().
template <>
inline bool fast_lock(sync::RLock* o) noexcept {
  try {
    return sync::rlock_acquire_fast(o->data());
  } catch (...) {
    return false;
  }
}
template <>
inline bool fast_unlock(sync::RLock* o) noexcept {
  try {
    return sync::rlock_release_fast(o->data());
  } catch (...) {
    return false;
  }
}

// ---- with / guard: T has lock(Deadline) and unlock() -----------------------

template <class T>
void acquire_for_scope(lua_State* L, T* o) {
  if (fast_lock(o)) return;
  protect(L, [&] {
    try {
      o->lock(Deadline::never());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::AbandonedLock) o->unlock();
      throw;
    }
    return 0;
  });
}

template <class T>
int with_done(lua_State* L, int status, lua_KContext) {
  bool failed = status != LUA_OK && status != LUA_YIELD;
  auto* h = static_cast<Handle*>(lua_touserdata(L, 1));
  if (!h->obj) {
    if (failed) return lua_error(L);
    raise_error(L, ErrorKind::InvalidState, "%s was closed inside with()", T::kTypeName);
  }
  T* o = static_cast<T*>(h->obj);
  if (failed) {
    try {
      o->unlock();  // the body's error wins over a release error
    } catch (...) {
    }
    return lua_error(L);
  }
  if (!fast_unlock(o))
    protect(L, [&] {
      o->unlock();
      return 0;
    });
  return lua_gettop(L) - 1;
}

// obj:with(fn, ...) -> fn's results; released however fn ends. fn may yield.
template <class T>
int m_with(lua_State* L) {
  T* o = self<T>(L);
  check_function(L, 2);
  acquire_for_scope(L, o);
  return with_done<T>(L, lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, with_done<T>), 0);
}

inline constexpr const char* kGuardMeta = "tide.sync.Guard";

struct Guard {
  Object* obj;  // owned reference; nullptr once released
  void (*unlock)(Object*);
};

template <class T>
void unlock_as(Object* o) {
  static_cast<T*>(o)->unlock();
}

inline Guard* check_guard(lua_State* L) {
  auto* g = static_cast<Guard*>(luaL_testudata(L, 1, kGuardMeta));
  if (!g) type_error(L, 1, kGuardMeta);
  return g;
}

inline int guard_close(lua_State* L) {
  Guard* g = check_guard(L);
  Object* o = std::exchange(g->obj, nullptr);
  if (!o) return 0;
  return protect(L, [&] {
    auto ref = Ref<Object>::adopt(o);
    g->unlock(o);
    return 0;
  });
}

inline int guard_gc(lua_State* L) {
  auto* g = static_cast<Guard*>(luaL_testudata(L, 1, kGuardMeta));
  if (!g) return 0;
  if (Object* o = std::exchange(g->obj, nullptr)) o->release();
  return 0;
}

inline int guard_tostring(lua_State* L) {
  Guard* g = check_guard(L);
  return push_state(L, "Guard", g->obj ? "held" : "released");
}

// obj:guard() -> a to-be-closed value holding obj; closing it (or calling
// its release()) releases obj.
template <class T>
int m_guard(lua_State* L) {
  T* o = self<T>(L);
  auto* g = static_cast<Guard*>(lua_newuserdatauv(L, sizeof(Guard), 0));
  g->obj = nullptr;
  g->unlock = unlock_as<T>;
  if (luaL_newmetatable(L, kGuardMeta)) {
    const luaL_Reg meta[] = {{"__close", guard_close}, {"__gc", guard_gc}, {"__tostring", guard_tostring},
                             {"release", guard_close}, {nullptr, nullptr}};
    luaL_setfuncs(L, meta, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  acquire_for_scope(L, o);
  o->retain();
  g->obj = o;
  return 1;
}

}  // namespace tide::sync_binding
