#include "luabase/error.hpp"

#include "luabase/protect.hpp"

#include <cstdarg>

namespace tide {

namespace {

int error_tostring(lua_State* L) {
  lua_getfield(L, 1, "kind");
  lua_getfield(L, 1, "message");
  const char* kind = lua_tostring(L, -2);
  const char* msg = lua_tostring(L, -1);
  lua_pushfstring(L, "%s: %s", kind ? kind : "Error", msg ? msg : "");
  return 1;
}

}  // namespace

void open_error_meta(lua_State* L) {
  if (luaL_newmetatable(L, kErrorMeta)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

void push_error(lua_State* L, ErrorKind kind, std::string_view message, std::string_view traceback,
                int cause_idx) {
  if (cause_idx != 0) cause_idx = lua_absindex(L, cause_idx);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind_name(kind));
  lua_setfield(L, -2, "kind");
  lua_pushlstring(L, message.data(), message.size());
  lua_setfield(L, -2, "message");
  lua_pushlstring(L, traceback.data(), traceback.size());
  lua_setfield(L, -2, "traceback");
  if (cause_idx != 0) {
    lua_pushvalue(L, cause_idx);
    lua_setfield(L, -2, "cause");
  }
  if (luaL_getmetatable(L, kErrorMeta) == LUA_TNIL) {
    lua_pop(L, 1);
    open_error_meta(L);
    luaL_getmetatable(L, kErrorMeta);
  }
  lua_setmetatable(L, -2);
}

namespace detail {
int push_raised(lua_State* L) {
  const auto* r = static_cast<const Raised*>(lua_touserdata(L, 1));
  push_error(L, r->kind, std::string_view(r->message, r->len));
  if (r->err_no != 0) {
    lua_pushinteger(L, r->err_no);
    lua_setfield(L, -2, "errno");
  }
  return 1;
}
}  // namespace detail

void raise_error(lua_State* L, ErrorKind kind, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  push_error(L, kind, lua_tostring(L, -1));
  lua_error(L);
  __builtin_unreachable();
}

namespace {
constexpr const char* kPendingError = "tide.pending_error";
}  // namespace

void stash_pending_error(lua_State* L) { lua_setfield(L, LUA_REGISTRYINDEX, kPendingError); }

bool take_pending_error(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kPendingError) == LUA_TNIL) {
    lua_pop(L, 1);
    return false;
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kPendingError);
  return true;
}

bool is_error(lua_State* L, int idx, const char* kind) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return false;
  luaL_getmetatable(L, kErrorMeta);
  bool ok = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!ok || !kind) return ok;
  lua_getfield(L, idx, "kind");
  const char* k = lua_tostring(L, -1);
  ok = k && std::string_view(k) == kind;
  lua_pop(L, 1);
  return ok;
}

}  // namespace tide
