// tide.shared (API.md §9): Value and Array, typed slots in the shared arena
// (host/shared_values/), usable unchanged from threads and child processes.
// Table lives in bindings/shared_table.cpp and joins this module in
// luaopen_tide_shared.
//
// Choices where API.md is silent:
// - get_lock() on an object made with {lock=false} raises InvalidState.
// - {lock=<Lock or RLock>} shares that lock (Python's lock=<lock>).
// - An int accepts integral floats (3.0); a double any number; a bool only
//   booleans; a char a one-byte string. Anything else is ArgumentError.
// - v:add(n) works on int and double Values (ArgumentError otherwise).
// - v:update(fn) (beyond API.md): fn(old) -> new under the Value's lock;
//   InvalidState with lock=false, as get_lock().
// - Reading or writing an Array at an index that is not an integer in
//   1..#a raises ArgumentError (so ipairs(a) does not stop at #a: iterate
//   with `for i = 1, #a`, pairs(a) or a:totable()).
#include <cstring>

#include "modules.hpp"
#include "shared_table.hpp"
#include "runtime/state.hpp"
#include "shared_values/array.hpp"
#include "shared_values/value.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync/lock.hpp"
#include "sync/rlock.hpp"
#include "sync_class.hpp"

namespace tide {
namespace {

using shared::Array;
using shared::ScalarType;
using shared::Value;
using sync_binding::self;

constexpr const char* kModule = "tide.shared";

// ---- conversions -----------------------------------------------------------

// The slot form of the value at idx for type t; nullptr on success, else
// what was expected. Never raises.
const char* to_slot(lua_State* L, int idx, ScalarType t, std::uint64_t& out) {
  switch (t) {
    case ScalarType::Int: {
      if (lua_type(L, idx) != LUA_TNUMBER) return "integer";
      int ok = 0;
      lua_Integer i = lua_tointegerx(L, idx, &ok);
      if (!ok) return "integer (number has no integer representation)";
      out = shared::bits_of(static_cast<std::int64_t>(i));
      return nullptr;
    }
    case ScalarType::Double:
      if (lua_type(L, idx) != LUA_TNUMBER) return "number";
      out = shared::bits_of(static_cast<double>(lua_tonumber(L, idx)));
      return nullptr;
    case ScalarType::Bool:
      if (lua_type(L, idx) != LUA_TBOOLEAN) return "boolean";
      out = lua_toboolean(L, idx) ? 1 : 0;
      return nullptr;
    case ScalarType::Char: {
      size_t len = 0;
      const char* s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : nullptr;
      if (!s || len != 1) return "one-character string";
      out = static_cast<unsigned char>(s[0]);
      return nullptr;
    }
  }
  return "value";
}

std::uint64_t check_slot(lua_State* L, int idx, ScalarType t, const char* what) {
  std::uint64_t out = 0;
  if (const char* expected = to_slot(L, idx, t, out))
    raise_error(L, ErrorKind::ArgumentError, "%s: %s %s expected, got %s", what, shared::scalar_type_name(t),
                expected, luaL_typename(L, idx));
  return out;
}

void push_slot(lua_State* L, ScalarType t, std::uint64_t b) {
  switch (t) {
    case ScalarType::Int: lua_pushinteger(L, shared::int_of(b)); return;
    case ScalarType::Double: lua_pushnumber(L, shared::double_of(b)); return;
    case ScalarType::Bool: lua_pushboolean(L, b != 0); return;
    case ScalarType::Char: {
      char c = static_cast<char>(b);
      lua_pushlstring(L, &c, 1);
      return;
    }
  }
}

ScalarType check_type(lua_State* L, int arg) {
  const char* name = check_string(L, arg);
  ScalarType t;
  if (!shared::scalar_type_from_name(name, t))
    raise_error(L, ErrorKind::ArgumentError,
                "unknown type '%s' (expected int, double, bool or char; i, l, q, d, f, c)", name);
  return t;
}

// opts.lock: nil/true -> a new RLock; false -> none; a Lock/RLock -> shared.
struct LockChoice {
  shm::SharedObject* given = nullptr;
  bool want = true;
};

const char* const kLockOptions[] = {"lock", nullptr};

LockChoice check_lock_option(lua_State* L, int arg) {
  LockChoice c;
  if (lua_isnoneornil(L, arg)) return c;
  check_table(L, arg);
  check_options(L, arg, kLockOptions);
  lua_getfield(L, arg, "lock");
  if (lua_type(L, -1) == LUA_TBOOLEAN) {
    c.want = lua_toboolean(L, -1);
  } else if (!lua_isnil(L, -1)) {
    Handle* h = test_handle(L, -1);
    if (!h || !h->obj || !(luaL_testudata(L, -1, sync::Lock::kTypeName) || luaL_testudata(L, -1, sync::RLock::kTypeName)))
      arg_error(L, arg, "field 'lock' must be a boolean, a Lock or an RLock");
    c.given = static_cast<shm::SharedObject*>(h->obj);  // kept alive by opts
  }
  lua_pop(L, 1);
  return c;
}

int push_lock(lua_State* L, Ref<Object> lock, const char* what) {
  if (!lock) throw Error(ErrorKind::InvalidState, std::string(what) + " was created with lock=false");
  push_handle(L, lock.get());
  return 1;
}

// ---- Value -----------------------------------------------------------------

// Value(type, [init], [{lock=...}])
int l_Value(lua_State* L) {
  ScalarType t = check_type(L, 1);
  std::uint64_t init = lua_isnoneornil(L, 2) ? 0 : check_slot(L, 2, t, "bad initial value");
  LockChoice lock = check_lock_option(L, 3);
  return protect(L, [&] {
    auto v = Value::create(t, init, lock.given, lock.want);
    push_handle(L, v.get());
    return 1;
  });
}

// Fast path first: `v.value` is compared as an interned string (upvalue 3).
// A method is found without checking `self` (the method checks it), so
// `v:add(1)` costs one table lookup here.
int value_index(lua_State* L) {
  if (lua_rawequal(L, 2, lua_upvalueindex(3))) {
    Value* v = self<Value>(L);
    push_slot(L, v->type(), v->load());
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  Value* v = self<Value>(L);
  if (lua_type(L, 2) == LUA_TSTRING && std::strcmp(lua_tostring(L, 2), "type") == 0) {
    lua_pushstring(L, shared::scalar_type_name(v->type()));
    return 1;
  }
  return 0;
}

int value_newindex(lua_State* L) {
  Value* v = self<Value>(L);
  if (!lua_rawequal(L, 2, lua_upvalueindex(3)))
    raise_error(L, ErrorKind::ArgumentError, "cannot set field '%s' of a Value (only 'value')",
                luaL_tolstring(L, 2, nullptr));
  v->store(check_slot(L, 3, v->type(), "cannot assign to Value"));
  return 0;
}

int m_value_add(lua_State* L) {
  Value* v = self<Value>(L);
  switch (v->type()) {
    case ScalarType::Int:
      lua_pushinteger(L, v->add(static_cast<std::int64_t>(check_integer(L, 2))));
      return 1;
    case ScalarType::Double:
      lua_pushnumber(L, v->add(static_cast<double>(check_number(L, 2))));
      return 1;
    default:
      raise_error(L, ErrorKind::ArgumentError, "add needs an int or double Value, not %s",
                  shared::scalar_type_name(v->type()));
  }
}

int m_value_cas(lua_State* L) {
  Value* v = self<Value>(L);
  std::uint64_t expected = check_slot(L, 2, v->type(), "bad argument #1 to 'cas'");
  std::uint64_t desired = check_slot(L, 3, v->type(), "bad argument #2 to 'cas'");
  lua_pushboolean(L, v->cas(expected, desired));
  return 1;
}

int m_value_get_lock(lua_State* L) {
  Value* v = self<Value>(L);
  return protect(L, [&] { return push_lock(L, v->guard_lock(), "the Value"); });
}

// v:update(fn) -> the new value: fn(old) runs with the Value's lock held
// and its result is stored before the lock is released; an error in fn
// (or a result of the wrong type) releases the lock and propagates. fn may
// yield (a continuation finishes the update).
int update_done(lua_State* L, int status, lua_KContext) {
  bool failed = status != LUA_OK && status != LUA_YIELD;
  auto* h = static_cast<Handle*>(lua_touserdata(L, 1));
  if (!h->obj) {  // cannot happen today: a Value has no close; kept for safety
    if (failed) return lua_error(L);
    raise_error(L, ErrorKind::InvalidState, "the Value was released inside update()");
  }
  auto* v = static_cast<Value*>(h->obj);
  std::uint64_t out = 0;
  const char* expected = failed ? nullptr : to_slot(L, -1, v->type(), out);
  if (failed || expected) {
    try {
      v->unlock_guard();  // fn's error wins over a release error
    } catch (...) {
    }
    if (failed) return lua_error(L);
    raise_error(L, ErrorKind::ArgumentError, "update: the function must return %s %s, got %s",
                shared::scalar_type_name(v->type()), expected, luaL_typename(L, -1));
  }
  v->store(out);
  protect(L, [&] {
    v->unlock_guard();
    return 0;
  });
  push_slot(L, v->type(), out);
  return 1;
}

int m_value_update(lua_State* L) {
  Value* v = self<Value>(L);
  check_function(L, 2);
  lua_settop(L, 2);
  protect(L, [&] {
    try {
      v->lock_guard(Deadline::never());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::AbandonedLock) v->unlock_guard();  // as with(): no scope leaves it held
      throw;
    }
    return 0;
  });
  push_slot(L, v->type(), v->load());
  return update_done(L, lua_pcallk(L, 1, 1, 0, 0, update_done), 0);
}

int value_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Value::kTypeName);
  if (!h->obj) {
    lua_pushstring(L, "Value (released)");
    return 1;
  }
  auto* v = static_cast<Value*>(h->obj);
  push_slot(L, v->type(), v->load());
  lua_pushfstring(L, "Value (%s: %s)", shared::scalar_type_name(v->type()), luaL_tolstring(L, -1, nullptr));
  return 1;
}

const luaL_Reg kValueMethods[] = {
    {"add", m_value_add},           {"cas", m_value_cas},   {"get_lock", m_value_get_lock},
    {"update", m_value_update},     {nullptr, nullptr}};
const luaL_Reg kValueMeta[] = {{"__index", value_index},
                               {"__newindex", value_newindex},
                               {"__tostring", value_tostring},
                               {nullptr, nullptr}};

// ---- Array -----------------------------------------------------------------

// Array(type, size_or_list, [{lock=...}])
int l_Array(lua_State* L) {
  ScalarType t = check_type(L, 1);
  lua_Integer size = 0;
  bool list = lua_type(L, 2) == LUA_TTABLE;
  if (list) {
    size = static_cast<lua_Integer>(lua_rawlen(L, 2));
    for (lua_Integer i = 1; i <= size; ++i) {  // validate before creating anything
      lua_rawgeti(L, 2, i);
      int item = lua_gettop(L);
      check_slot(L, item, t, lua_pushfstring(L, "bad element %I", i));
      lua_settop(L, item - 1);
    }
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    size = check_integer(L, 2);
    if (size < 0 || size > Array::kMaxSize) arg_error(L, 2, "size must be between 0 and 2^28");
  } else {
    type_error(L, 2, "size or table");
  }
  LockChoice lock = check_lock_option(L, 3);
  return protect(L, [&] {
    auto a = Array::create(t, size, 0, lock.given, lock.want);
    for (lua_Integer i = 1; list && i <= size; ++i) {
      lua_rawgeti(L, 2, i);
      std::uint64_t b = 0;
      to_slot(L, -1, t, b);
      lua_pop(L, 1);
      a->store(i - 1, b);
    }
    push_handle(L, a.get());
    return 1;
  });
}

std::int64_t check_index(lua_State* L, Array* a, int idx) {
  int ok = 0;
  lua_Integer i = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &ok) : 0;
  if (!ok)
    raise_error(L, ErrorKind::ArgumentError, "Array index must be an integer, got %s",
                lua_type(L, idx) == LUA_TNUMBER ? "a non-integral number" : luaL_typename(L, idx));
  if (i < 1 || i > a->size())
    raise_error(L, ErrorKind::ArgumentError, "Array index %I out of range (1..%I)", i,
                static_cast<lua_Integer>(a->size()));
  return i - 1;
}

int array_index(lua_State* L) {
  Array* a = self<Array>(L);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
    if (std::strcmp(lua_tostring(L, 2), "type") == 0) {
      lua_pushstring(L, shared::scalar_type_name(a->type()));
      return 1;
    }
  }
  std::int64_t i = check_index(L, a, 2);
  push_slot(L, a->type(), a->load(i));
  return 1;
}

int array_newindex(lua_State* L) {
  Array* a = self<Array>(L);
  std::int64_t i = check_index(L, a, 2);
  a->store(i, check_slot(L, 3, a->type(), "cannot assign to Array element"));
  return 0;
}

int array_len(lua_State* L) {
  lua_pushinteger(L, self<Array>(L)->size());
  return 1;
}

int m_array_totable(lua_State* L) {
  Array* a = self<Array>(L);
  std::int64_t n = a->size();
  lua_createtable(L, static_cast<int>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    push_slot(L, a->type(), a->load(i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

int m_array_get_lock(lua_State* L) {
  Array* a = self<Array>(L);
  return protect(L, [&] { return push_lock(L, a->guard_lock(), "the Array"); });
}

int array_next(lua_State* L) {  // (array, i) -> i+1, a[i+1]
  Array* a = self<Array>(L);
  lua_Integer i = check_integer(L, 2);
  if (i < 0 || i >= a->size()) return 0;
  lua_pushinteger(L, i + 1);
  push_slot(L, a->type(), a->load(i));
  return 2;
}

int array_pairs(lua_State* L) {
  self<Array>(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushcclosure(L, array_next, 2);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

int array_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Array::kTypeName);
  if (!h->obj) {
    lua_pushstring(L, "Array (released)");
    return 1;
  }
  auto* a = static_cast<Array*>(h->obj);
  lua_pushfstring(L, "Array (%s[%I])", shared::scalar_type_name(a->type()), static_cast<lua_Integer>(a->size()));
  return 1;
}

const luaL_Reg kArrayMethods[] = {{"totable", m_array_totable}, {"get_lock", m_array_get_lock}, {nullptr, nullptr}};
const luaL_Reg kArrayMeta[] = {{"__index", array_index},   {"__newindex", array_newindex}, {"__len", array_len},
                               {"__pairs", array_pairs},   {"__tostring", array_tostring}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"Value", l_Value}, {"Array", l_Array}, {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(Value::kTypeName, kModule);
  register_handle_type(Array::kTypeName, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_shared(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  // Values hand out tide.sync locks: load that module now, so pushing a lock
  // handle later never runs `require` while C++ objects are alive.
  lua_getglobal(L, "require");
  lua_pushstring(L, "tide.sync");
  lua_call(L, 1, 0);
  sync_binding::install_class(L, Value::kTypeName, kModule, kValueMethods, nullptr, kValueMeta);
  sync_binding::install_class(L, Array::kTypeName, kModule, kArrayMethods, nullptr, kArrayMeta);
  luaL_newlib(L, kFunctions);
  open_shared_table(L, lua_gettop(L));
  return 1;
}
