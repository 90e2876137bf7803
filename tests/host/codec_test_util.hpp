// Shared fixtures of the codec tests (codec_test.cpp, codec_hostile_test.cpp):
// a test object type, a Lua state wrapper, and encode/decode helpers.
#pragma once
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <lua.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "codec/bytecode.hpp"
#include "codec/codec.hpp"
#include "core/error.hpp"
#include "luabase/cfunctions.hpp"
#include "luabase/handles.hpp"

using tide::Message;
using tide::codec::Label;

namespace codec_test {

// A test object type: counts live instances.
struct TestObject : tide::Object {
  static inline std::atomic<int> alive{0};
  TestObject() { ++alive; }
  ~TestObject() override { --alive; }
  const char* type_name() const noexcept override { return "test.Obj"; }
};

inline int close_handle(lua_State* L) {
  auto* h = static_cast<tide::Handle*>(lua_touserdata(L, 1));
  if (h && h->obj) {
    h->obj->release();
    h->obj = nullptr;
  }
  return 0;
}

inline int define_test_obj(lua_State* L) {
  if (luaL_newmetatable(L, "test.Obj")) {
    tide::mark_handle_metatable(L, -1);
    lua_pushcfunction(L, close_handle);
    lua_setfield(L, -2, "__gc");
  }
  return 1;
}

inline int unregistered_cfunction(lua_State* L) {
  lua_pushinteger(L, 42);
  return 1;
}

// A Lua state whose allocator refuses to grow past `limit` bytes in total.
class Lua {
 public:
  explicit Lua(std::size_t limit = SIZE_MAX) : limit_(limit) {
    L = lua_newstate(&Lua::alloc, this);
    REQUIRE(L);
    luaL_openlibs(L);
    lua_pushglobaltable(L);
    tide::cfunctions::register_table(L, -1, "_G");
    lua_getfield(L, -1, "string");
    tide::cfunctions::register_table(L, -1, "string");
    lua_pop(L, 2);
    lua_pushcfunction(L, close_handle);
    lua_setglobal(L, "close_handle");
    lua_pushcfunction(L, unregistered_cfunction);
    lua_setglobal(L, "unregistered");
  }
  ~Lua() { lua_close(L); }
  Lua(const Lua&) = delete;
  Lua& operator=(const Lua&) = delete;
  operator lua_State*() const { return L; }

  lua_State* L;

 private:
  static void* alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
    auto* self = static_cast<Lua*>(ud);
    if (!ptr) osize = 0;
    if (nsize == 0) {
      std::free(ptr);
      self->used_ -= osize;
      return nullptr;
    }
    if (nsize > osize && self->used_ + (nsize - osize) > self->limit_) return nullptr;
    void* p = std::realloc(ptr, nsize);
    if (p) self->used_ += nsize - osize;
    return p;
  }
  std::size_t limit_;
  std::size_t used_ = 0;
};

inline void run(lua_State* L, const std::string& code) {
  int top = lua_gettop(L);
  bool ok = luaL_loadstring(L, code.c_str()) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK;
  INFO(code);
  REQUIRE_MESSAGE(ok, lua_tostring(L, -1));
  lua_settop(L, top);
}

// Evaluates `expr` in `L` and leaves its results on the stack; returns how many.
inline int eval(lua_State* L, const std::string& expr) {
  int top = lua_gettop(L);
  bool ok = luaL_loadstring(L, ("return " + expr).c_str()) == LUA_OK &&
            lua_pcall(L, 0, LUA_MULTRET, 0) == LUA_OK;
  INFO(expr);
  REQUIRE_MESSAGE(ok, lua_tostring(L, -1));
  return lua_gettop(L) - top;
}

inline Message encode_expr(lua_State* L, const std::string& expr, Label label = {}) {
  int top = lua_gettop(L);
  int n = eval(L, expr);
  Message m;
  tide::codec::encode(L, top + 1, n, m, label);
  REQUIRE(lua_gettop(L) == top + n);
  lua_settop(L, top);
  return m;
}

// Decodes `m` into `L` and stores the values as global `name` = {n=..., ...}.
inline void store(lua_State* L, const Message& m, const char* name = "v") {
  int top = lua_gettop(L);
  int k = tide::codec::decode(L, m);
  REQUIRE(k == m.count);
  REQUIRE(lua_gettop(L) == top + k);
  lua_createtable(L, k, 1);
  for (int i = 1; i <= k; ++i) {
    lua_pushvalue(L, top + i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, k);
  lua_setfield(L, -2, "n");
  lua_setglobal(L, name);
  lua_settop(L, top);
}

inline void transfer(lua_State* src, lua_State* dst, const std::string& expr, const char* name = "v") {
  store(dst, encode_expr(src, expr), name);
}

// Encoding `expr` must fail; returns the TransferError message.
inline std::string encode_error(lua_State* L, const std::string& expr, Label label = {"argument", 1}) {
  int top = lua_gettop(L);
  int n = eval(L, expr);
  Message m;
  lua_pushliteral(L, "earlier value");
  tide::codec::encode(L, -1, 1, m);  // must survive the failure
  lua_pop(L, 1);
  const std::string before = m.bytes;
  std::string msg = "<no error>";
  try {
    tide::codec::encode(L, top + 1, n, m, label);
  } catch (const tide::Error& e) {
    CHECK(e.kind() == tide::ErrorKind::TransferError);
    msg = e.what();
  }
  CHECK(lua_gettop(L) == top + n);
  CHECK(m.bytes == before);
  CHECK(m.count == 1);
  lua_settop(L, top);
  return msg;
}

// Decoding must fail with TransferError and leave the stack alone.
inline std::string decode_error(lua_State* L, std::string_view bytes, int count) {
  int top = lua_gettop(L);
  std::string msg = "<no error>";
  try {
    tide::codec::decode_bytes(L, bytes, count);
  } catch (const tide::Error& e) {
    CHECK(e.kind() == tide::ErrorKind::TransferError);
    msg = e.what();
  }
  CHECK(lua_gettop(L) == top);
  return msg;
}

// Either decodes or throws TransferError, never anything else.
inline void decode_any(lua_State* L, std::string_view bytes, int count) {
  int top = lua_gettop(L);
  try {
    int k = tide::codec::decode_bytes(L, bytes, count);
    CHECK(k == count);
    CHECK(lua_gettop(L) == top + count);
  } catch (const tide::Error& e) {
    CHECK(e.kind() == tide::ErrorKind::TransferError);
    CHECK(lua_gettop(L) == top);
  }
  lua_settop(L, top);
}

inline std::string header() { return std::string("\x74\x01", 2); }
inline std::string u32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

}  // namespace codec_test
