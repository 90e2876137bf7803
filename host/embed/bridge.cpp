#include "embed/bridge.hpp"

#include <cerrno>
#include <cstring>

#include "luabase/error.hpp"

namespace tide::embed {

namespace {

// Message handler: the error value itself, made a tide error with a
// traceback (a plain error("boom") becomes a RemoteError with its text).
int keep_error(lua_State* L) {
  if (is_error(L, 1)) {
    lua_pushliteral(L, "traceback");
    lua_rawget(L, 1);
    bool has = lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0;
    lua_pop(L, 1);
    if (!has) {
      luaL_traceback(L, L, nullptr, 1);
      lua_pushliteral(L, "traceback");
      lua_insert(L, -2);
      lua_rawset(L, 1);
    }
    lua_settop(L, 1);
    return 1;
  }
  const char* text = luaL_tolstring(L, 1, nullptr);
  luaL_traceback(L, L, nullptr, 1);
  push_error(L, ErrorKind::RemoteError, text, lua_tostring(L, -1));
  return 1;
}

// (error table) -> its kind, message and traceback fields, raw.
int error_fields(lua_State* L) {
  for (const char* k : {"kind", "message", "traceback"}) {
    lua_pushstring(L, k);
    lua_rawget(L, 1);
  }
  return 3;
}

std::string string_at(lua_State* L, int idx) {
  std::size_t n = 0;
  const char* s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &n) : nullptr;
  return s ? std::string(s, n) : std::string();
}

// The tide::Error for the error value on top of the stack (popped).
Error error_from_stack(lua_State* L, int status) {
  if (status == LUA_ERRMEM) {
    lua_pop(L, 1);
    return Error(ErrorKind::OSError, "not enough memory", ENOMEM);
  }
  ErrorKind kind = ErrorKind::RemoteError;
  std::string message = "error in the error handler", traceback;
  if (lua_type(L, -1) == LUA_TSTRING) {
    message = string_at(L, -1);
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushcfunction(L, error_fields);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 3, 0) == LUA_OK) {
      if (!kind_from_name(string_at(L, -3), kind)) kind = ErrorKind::RemoteError;
      message = string_at(L, -2);
      traceback = string_at(L, -1);
      lua_pop(L, 3);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return Error(kind, std::move(message), std::move(traceback));
}

}  // namespace

// Under keep_error, so the error object arrives with its traceback.
int run_protected(lua_State* L, lua_CFunction body, void* ctx) {
  int base = lua_gettop(L);
  if (!lua_checkstack(L, 4)) throw Error(ErrorKind::OSError, "Lua stack overflow");
  lua_pushcfunction(L, keep_error);
  lua_pushcfunction(L, body);
  lua_pushlightuserdata(L, ctx);
  int status = lua_pcall(L, 1, LUA_MULTRET, base + 1);
  lua_remove(L, base + 1);
  if (status != LUA_OK) throw error_from_stack(L, status);
  return lua_gettop(L) - base;
}

void push_value(lua_State* L, const Value& v) {
  if (v.is_nil()) lua_pushnil(L);
  else if (v.is_boolean()) lua_pushboolean(L, v.boolean());
  else if (v.is_integer()) lua_pushinteger(L, static_cast<lua_Integer>(v.integer()));
  else if (v.is_number()) lua_pushnumber(L, v.number());
  else lua_pushlstring(L, v.string().data(), v.string().size());
}

Values take_values(lua_State* L, int n) {
  Values out;
  out.reserve(static_cast<std::size_t>(n));
  int first = lua_gettop(L) - n + 1;
  for (int i = first; i < first + n; ++i) {
    switch (lua_type(L, i)) {
      case LUA_TNIL: out.emplace_back(); break;
      case LUA_TBOOLEAN: out.emplace_back(lua_toboolean(L, i) != 0); break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, i)) out.emplace_back(static_cast<long long>(lua_tointeger(L, i)));
        else out.emplace_back(static_cast<double>(lua_tonumber(L, i)));
        break;
      case LUA_TSTRING: {
        std::size_t len;
        const char* s = lua_tolstring(L, i, &len);
        out.emplace_back(std::string(s, len));
        break;
      }
      default: {
        std::string what = luaL_typename(L, i);
        lua_settop(L, first - 1);
        throw Error(ErrorKind::TransferError, "result " + std::to_string(i - first + 1) + " is a " + what +
                                                  ": only nil, booleans, numbers and strings reach C++");
      }
    }
  }
  lua_settop(L, first - 1);
  return out;
}

void push_named(lua_State* L, const std::string& name) {
  const char* s = name.c_str();
  const char* dot = std::strchr(s, '.');
  std::size_t len = dot ? static_cast<std::size_t>(dot - s) : name.size();
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushlstring(L, s, len);
  lua_gettable(L, -2);
  lua_remove(L, -2);
  if (lua_isnil(L, -1) && dot) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushlstring(L, s, len);
    lua_call(L, 1, 1);
  }
  while (dot) {
    const char* part = dot + 1;
    dot = std::strchr(part, '.');
    std::size_t n = dot ? static_cast<std::size_t>(dot - part) : std::strlen(part);
    if (!lua_istable(L, -1) && !lua_isuserdata(L, -1))
      luaL_error(L, "'%s' does not name a function (no table at '%s')", s, part);
    lua_pushlstring(L, part, n);
    lua_gettable(L, -2);
    lua_remove(L, -2);
  }
  if (lua_type(L, -1) != LUA_TFUNCTION) luaL_error(L, "'%s' is not a function", s);
}

}  // namespace tide::embed
