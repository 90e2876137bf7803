#include "luabase/aux_defaults.hpp"

#include <cstdio>
#include <cstring>

namespace tide {

namespace {

void write_error(const char* s) noexcept {
  std::fputs(s, stderr);
  std::fflush(stderr);
}

void warn_off(void* ud, const char* message, int tocont) noexcept;
void warn_on(void* ud, const char* message, int tocont) noexcept;

// "@on" and "@off" switch warnings; other "@..." messages are ignored.
bool control(lua_State* L, const char* message, int tocont) noexcept {
  if (tocont || *message != '@') return false;
  if (std::strcmp(message + 1, "off") == 0)
    lua_setwarnf(L, warn_off, L);
  else if (std::strcmp(message + 1, "on") == 0)
    lua_setwarnf(L, warn_on, L);
  return true;
}

void warn_off(void* ud, const char* message, int tocont) noexcept {
  control(static_cast<lua_State*>(ud), message, tocont);
}

// A message may come in parts (lua_warning's tocont): the rest of one.
void warn_cont(void* ud, const char* message, int tocont) noexcept {
  auto* L = static_cast<lua_State*>(ud);
  write_error(message);
  if (tocont) {
    lua_setwarnf(L, warn_cont, L);
  } else {
    write_error("\n");
    lua_setwarnf(L, warn_on, L);
  }
}

void warn_on(void* ud, const char* message, int tocont) noexcept {
  if (control(static_cast<lua_State*>(ud), message, tocont)) return;
  write_error("Lua warning: ");
  warn_cont(ud, message, tocont);
}

int panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  if (!msg) msg = "error object is not a string";
  std::fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
  std::fflush(stderr);
  return 0;  // Lua aborts
}

}  // namespace

void set_aux_defaults(lua_State* L) noexcept {
  lua_atpanic(L, panic);
  lua_setwarnf(L, warn_off, L);
}

}  // namespace tide
