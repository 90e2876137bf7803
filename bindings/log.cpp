// tide.log (API.md §13): string.format-style logging through spdlog.
#include "core/log.hpp"
#include "modules.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"

namespace tide {
namespace {

// Formats the arguments like string.format (just the text when alone). A
// format that does not fit its arguments is an ArgumentError with
// string.format's reason.
const char* format_args(lua_State* L, size_t* len) {
  if (lua_gettop(L) == 1) return luaL_tolstring(L, 1, len);
  check_string(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "string");
  if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, "format") != LUA_TFUNCTION)
    raise_error(L, ErrorKind::InvalidState, "string.format is not available");
  lua_insert(L, 1);
  lua_settop(L, lua_gettop(L) - 2);  // the loaded and string tables
  if (lua_pcall(L, lua_gettop(L) - 1, 1, 0) != LUA_OK) {
    if (is_error(L, -1)) lua_error(L);  // Cancelled, Interrupted... from a __tostring
    const char* why = lua_tostring(L, -1);
    raise_error(L, ErrorKind::ArgumentError, "bad format for log: %s", why ? why : "(error object is not a string)");
  }
  if (lua_type(L, -1) != LUA_TSTRING) raise_error(L, ErrorKind::ArgumentError, "bad format for log");
  return lua_tolstring(L, -1, len);
}

template <log::Level Level>
int l_log(lua_State* L) {
  if (lua_gettop(L) == 0) arg_error(L, 1, "message expected");
  if (!log::enabled(Level)) return 0;
  size_t len;
  const char* text = format_args(L, &len);
  return protect(L, [&] {
    log::write(Level, std::string_view(text, len));
    return 0;
  });
}

int l_set_level(lua_State* L) {
  const char* name = check_string(L, 1);
  bool ok = false;
  int r = protect(L, [&] {
    ok = log::set_level(name);
    return 0;
  });
  if (!ok) arg_error(L, 1, lua_pushfstring(L, "unknown level '%s' (trace, debug, info, warn, error, off)", name));
  return r;
}

int l_get_level(lua_State* L) {
  auto sv = log::level_name();
  lua_pushlstring(L, sv.data(), sv.size());
  return 1;
}

const luaL_Reg kFunctions[] = {{"debug", l_log<log::Level::debug>},
                               {"info", l_log<log::Level::info>},
                               {"warn", l_log<log::Level::warn>},
                               {"error", l_log<log::Level::error>},
                               {"set_level", l_set_level},
                               {"get_level", l_get_level},
                               {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_log(lua_State* L) {
  tide::runtime::install(L);
  luaL_newlib(L, tide::kFunctions);
  return 1;
}
