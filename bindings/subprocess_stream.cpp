// Popen's stdin, stdout and stderr (API.md §10): read([n]), lines(),
// write(s), close(), in Lua's file idiom: read(n) returns n bytes (fewer at
// the end) and nil at the end; read() and read("a") return the rest;
// read("l"/"L") and lines() go a line at a time; write returns the stream.
// Extras: fileno(), flush() (a no-op: writes are not buffered), `closed`.
#include <new>
#include <string_view>

#include "subprocess.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"

namespace tide::sub {
namespace {

using subprocess::Stream;

using StreamBox = Box<Stream>;

StreamBox* test_box(lua_State* L, int idx) {
  auto* box = static_cast<StreamBox*>(luaL_testudata(L, idx, kStreamMeta));
  if (!box) type_error(L, idx, kStreamMeta);
  return box;
}

Stream* check_stream(lua_State* L, int idx) {
  StreamBox* box = test_box(L, idx);
  if (!box->alive) raise_error(L, ErrorKind::InvalidState, "%s is released", kStreamMeta);
  return box->get();
}

Stream* self(lua_State* L) { return check_stream(L, 1); }

void push_view(lua_State* L, const std::optional<std::string_view>& v) {
  if (v)
    lua_pushlstring(L, v->data(), v->size());
  else
    lua_pushnil(L);
}

int m_read(lua_State* L) {
  Stream* s = self(L);
  if (lua_isnoneornil(L, 2)) {
    return protect(L, [&] {
      std::string_view v = s->read_all();
      lua_pushlstring(L, v.data(), v.size());
      return 1;
    });
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer n = check_integer(L, 2);
    if (n < 0) arg_error(L, 2, "size must not be negative");
    return protect(L, [&] {
      push_view(L, s->read(static_cast<std::size_t>(n)));
      return 1;
    });
  }
  const char* fmt = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (*fmt == '*') ++fmt;  // Lua 5.1's "*a", "*l"
  switch (*fmt) {
    case 'a':
      return protect(L, [&] {
        std::string_view v = s->read_all();
        lua_pushlstring(L, v.data(), v.size());
        return 1;
      });
    case 'l':
    case 'L': {
      bool keep = *fmt == 'L';
      return protect(L, [&] {
        push_view(L, s->read_line(keep));
        return 1;
      });
    }
    default: arg_error(L, 2, "a size, \"a\", \"l\" or \"L\" expected");
  }
}

int lines_step(lua_State* L) {
  Stream* s = check_stream(L, lua_upvalueindex(1));
  bool keep = lua_toboolean(L, lua_upvalueindex(2));
  return protect(L, [&] {
    push_view(L, s->read_line(keep));
    return 1;
  });
}

// for line in stream:lines() do ... end ("L": keep the newlines).
int m_lines(lua_State* L) {
  self(L);
  const char* fmt = "l";
  if (!lua_isnoneornil(L, 2)) fmt = check_string(L, 2);
  if (*fmt == '*') ++fmt;
  if (std::string_view(fmt) != "l" && std::string_view(fmt) != "L") arg_error(L, 2, "\"l\" or \"L\" expected");
  lua_settop(L, 1);
  lua_pushboolean(L, *fmt == 'L');
  lua_pushcclosure(L, lines_step, 2);
  return 1;
}

int m_write(lua_State* L) {
  Stream* s = self(L);
  int n = lua_gettop(L);
  for (int i = 2; i <= n; ++i)
    if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER) type_error(L, i, "string");
  return protect(L, [&] {
    for (int i = 2; i <= n; ++i) {
      size_t len;
      const char* p = lua_tolstring(L, i, &len);
      s->write(std::string_view(p, len));
    }
    lua_settop(L, 1);
    return 1;
  });
}

int m_flush(lua_State* L) {
  self(L);
  lua_settop(L, 1);
  return 1;
}

int m_close(lua_State* L) {
  self(L)->close();
  return 0;
}

int m_fileno(lua_State* L) {
  Stream* s = self(L);
  if (s->closed()) raise_error(L, ErrorKind::InvalidState, "%s is closed", s->name());
  lua_pushinteger(L, s->fd());
  return 1;
}

// Methods are found on a released stream too (calling them says it is
// released); the `closed` field needs it alive.
int stream_index(lua_State* L) {
  test_box(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING && std::string_view(lua_tostring(L, 2)) == "closed") {
    lua_pushboolean(L, self(L)->closed());
    return 1;
  }
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "methods");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int stream_tostring(lua_State* L) {
  Stream* s = self(L);
  if (s->closed())
    lua_pushfstring(L, "tide.subprocess.Stream (%s, closed)", s->name());
  else
    lua_pushfstring(L, "tide.subprocess.Stream (%s, fd %d)", s->name(), s->fd());
  return 1;
}

int stream_gc(lua_State* L) {
  test_box(L, 1)->destroy();
  return 0;
}

const luaL_Reg kMethods[] = {{"read", m_read},   {"lines", m_lines}, {"write", m_write}, {"flush", m_flush},
                             {"close", m_close}, {"fileno", m_fileno}, {nullptr, nullptr}};

}  // namespace

void open_stream_class(lua_State* L) {
  if (luaL_newmetatable(L, kStreamMeta)) {
    luaL_newlib(L, kMethods);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, stream_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, stream_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, stream_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
}

Stream* push_stream(lua_State* L, const char* name, bool writable) {
  // Made complete (and closed) before it gets its metatable, and so its __gc.
  auto* box = static_cast<StreamBox*>(lua_newuserdatauv(L, sizeof(StreamBox), 0));
  box->alive = false;
  Stream* s = new (box->mem) Stream(UniqueFd(), name, writable);
  box->alive = true;
  luaL_setmetatable(L, kStreamMeta);
  return s;
}

Stream* test_stream(lua_State* L, int idx) {
  auto* box = static_cast<StreamBox*>(luaL_testudata(L, idx, kStreamMeta));
  return box && box->alive ? box->get() : nullptr;
}

}  // namespace tide::sub
