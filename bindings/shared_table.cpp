// tide.shared.Table (API.md §9): t[k], t[k] = v (nil deletes), t:get(k),
// t:set(k, v), t:update(k, fn), t:pairs(), t:len(), t:clear(); also #t and
// pairs(t). Method names shadow keys under t.k; get/set reach any key.
//
// Keys are strings, numbers (integral floats are integers, as in Lua
// tables) and booleans; anything else, and NaN, is ArgumentError. Values are
// any transferable value, encoded with the transfer codec.
//
// update(k, fn) holds the table's (re-entrant, process-shared) lock while
// fn(old) runs under lua_pcall, so fn may use the table too; the lock is
// released before any error, fn's included, is raised.
#include <cmath>

#include "codec/codec.hpp"
#include "shared_table.hpp"
#include "shared_values/table.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"

namespace tide {
namespace {

using shared_values::Table;

Table* self(lua_State* L) { return check_object<Table>(L, 1); }

// Raises ArgumentError unless the value at `arg` can be a key.
void check_key(lua_State* L, int arg) {
  switch (lua_type(L, arg)) {
    case LUA_TSTRING:
    case LUA_TBOOLEAN:
      return;
    case LUA_TNUMBER:
      if (!lua_isinteger(L, arg) && std::isnan(lua_tonumber(L, arg))) arg_error(L, arg, "a key cannot be NaN");
      return;
    default:
      arg_error(L, arg, lua_pushfstring(L, "keys are strings, numbers or booleans, got %s", luaL_typename(L, arg)));
  }
}

// The key bytes of a value that passed check_key.
std::string key_at(lua_State* L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      std::size_t n;
      const char* s = lua_tolstring(L, idx, &n);
      return shared_values::key_of_string({s, n});
    }
    case LUA_TBOOLEAN:
      return shared_values::key_of_bool(lua_toboolean(L, idx));
    default:
      return lua_isinteger(L, idx) ? shared_values::key_of_int(lua_tointeger(L, idx))
                                   : shared_values::key_of_float(lua_tonumber(L, idx));
  }
}

void push_key(lua_State* L, std::string_view key) {
  shared_values::KeyView k = shared_values::parse_key(key);
  switch (k.type) {
    case shared_values::KeyView::Int: lua_pushinteger(L, k.i); break;
    case shared_values::KeyView::Float: lua_pushnumber(L, k.f); break;
    case shared_values::KeyView::String: lua_pushlstring(L, k.s.data(), k.s.size()); break;
    case shared_values::KeyView::Bool: lua_pushboolean(L, k.b); break;
    default: throw Error(ErrorKind::TransferError, "corrupt shared table key");
  }
}

// Pushes t[key] (nil when absent).
int push_value(lua_State* L, Table* t, const std::string& key) {
  Message m;
  if (!t->get(key, m)) {
    lua_pushnil(L);
    return 1;
  }
  return codec::decode(L, m);
}

// t[key] = value at `vidx` (nil deletes).
void store(lua_State* L, Table* t, const std::string& key, int vidx) {
  if (lua_isnil(L, vidx)) {
    t->erase(key);
    return;
  }
  Message m;
  codec::encode(L, vidx, 1, m, {"value", 0});
  t->set(key, m);
}

int m_get(lua_State* L) {
  Table* t = self(L);
  check_key(L, 2);
  return protect(L, [&] { return push_value(L, t, key_at(L, 2)); });
}

int m_set(lua_State* L) {
  Table* t = self(L);
  check_key(L, 2);
  lua_settop(L, 3);
  return protect(L, [&] {
    store(L, t, key_at(L, 2), 3);
    return 0;
  });
}

// Keys that are not methods (handle_index calls this with (t, k)).
int getter(lua_State* L) { return m_get(L); }

// t:update(k, fn) -> the new value: fn(old) runs with the table locked.
int m_update(lua_State* L) {
  Table* t = self(L);
  check_key(L, 2);
  check_function(L, 3);
  lua_settop(L, 3);
  return protect(L, [&] {
    std::string key = key_at(L, 2);
    Table::Hold hold(*t);
    lua_pushvalue(L, 3);
    push_value(L, t, key);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return kRaise;  // `hold` is released first
    store(L, t, key, 4);
    return 1;
  });
}

int raw_next(lua_State* L) {
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

// The snapshot iterator (snapshot, key) -> next key, value. It can be
// called by hand with anything: a key that is not in the snapshot makes
// lua_next raise, so it runs under lua_pcall and becomes an ArgumentError.
int snapshot_next(lua_State* L) {
  check_table(L, 1);
  lua_settop(L, 2);
  lua_pushcfunction(L, raw_next);
  lua_insert(L, 1);
  if (lua_pcall(L, 2, 2, 0) != LUA_OK)
    raise_error(L, ErrorKind::ArgumentError, "bad argument #2 to the Table iterator (not a key of its snapshot)");
  return 2;
}

// t:pairs() / pairs(t): an iterator over a snapshot taken now.
int m_pairs(lua_State* L) {
  Table* t = self(L);
  return protect(L, [&] {
    auto entries = t->snapshot();
    lua_pushcfunction(L, snapshot_next);
    lua_createtable(L, 0, static_cast<int>(entries.size()));
    for (const auto& [key, value] : entries) {
      push_key(L, key);
      codec::decode(L, value);
      lua_rawset(L, -3);
    }
    lua_pushnil(L);
    return 3;
  });
}

int m_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self(L)->size()));
  return 1;
}

int m_clear(lua_State* L) {
  self(L)->clear();
  return 0;
}

int table_newindex(lua_State* L) { return m_set(L); }

int table_tostring(lua_State* L) {
  Handle* h = check_handle(L, 1, Table::kTypeName);
  if (!h->obj) {
    lua_pushstring(L, "Table (released)");
    return 1;
  }
  lua_pushfstring(L, "Table (%I keys)", static_cast<LUAI_UACINT>(static_cast<Table*>(h->obj)->size()));
  return 1;
}

int table_eq(lua_State* L) {
  auto* a = static_cast<Handle*>(luaL_testudata(L, 1, Table::kTypeName));
  auto* b = static_cast<Handle*>(luaL_testudata(L, 2, Table::kTypeName));
  lua_pushboolean(L, a && b && a->obj && b->obj &&
                         static_cast<Table*>(a->obj)->offset() == static_cast<Table*>(b->obj)->offset());
  return 1;
}

int l_Table(lua_State* L) {
  return protect(L, [&] {
    Ref<Table> t = Table::create();
    push_handle(L, t.get());
    return 1;
  });
}

const luaL_Reg kMethods[] = {{"get", m_get},     {"set", m_set}, {"update", m_update},
                             {"pairs", m_pairs}, {"len", m_len}, {"clear", m_clear},
                             {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__newindex", table_newindex}, {"__len", m_len},
                          {"__pairs", m_pairs},          {"__tostring", table_tostring},
                          {"__eq", table_eq},             {nullptr, nullptr}};

// Known before any state loads tide.shared: a process that only receives a
// Table rebuilds its handle by requiring tide.shared.
[[maybe_unused]] const bool kHandleType = [] {
  register_handle_type(Table::kTypeName, "tide.shared");
  return true;
}();

}  // namespace

void open_shared_table(lua_State* L, int module_idx) {
  module_idx = lua_absindex(L, module_idx);
  define_class(L, ClassSpec{Table::kTypeName, kMethods, getter, kMeta}, "tide.shared");
  lua_pushcfunction(L, l_Table);
  lua_setfield(L, module_idx, "Table");
}

}  // namespace tide
