// Decoding functions: Lua functions from bytecode (with the per-state
// cache for functions whose only upvalue is the global table) and C
// functions by name.
#include <cstdint>
#include <cstring>

#include "codec/bytecode.hpp"
#include "codec/decoder.hpp"
#include "codec/protect.hpp"

namespace tide::codec::dec {
namespace {

using namespace wire;

constexpr const char* kCacheKey = "tide.codec.fncache";
constexpr lua_Integer kCacheMax = 256;

struct Chunk {
  const char* p;
  std::size_t n;
};

const char* chunk_reader(lua_State*, void* ud, std::size_t* size) {
  Chunk* c = static_cast<Chunk*>(ud);
  *size = c->n;
  c->n = 0;
  return *size ? c->p : nullptr;
}

void load(Dec* d, const char* bytecode, std::size_t n) {
  lua_State* L = d->L;
  if (!detail::plausible_bytecode(bytecode, n)) corrupt(d, "malformed function bytecode");
  Chunk c{bytecode, n};
  int status = lua_load(L, chunk_reader, &c, "=(transfer)", "b");
  if (status == LUA_ERRMEM) detail::raise(L);
  if (status != LUA_OK)
    luaL_error(L, "cannot load a transferred function: %s", lua_tostring(L, -1));
}

// The registry's function cache at kSlotCache, created if needed.
void get_cache(Dec* d, bool fresh) {
  lua_State* L = d->L;
  if (!fresh && lua_type(L, kSlotCache) == LUA_TTABLE) return;
  if (fresh || lua_getfield(L, LUA_REGISTRYINDEX, kCacheKey) != LUA_TTABLE) {
    if (!fresh) lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, kCacheKey);
  }
  lua_replace(L, kSlotCache);
}

// A function whose upvalues are all the global table: reuse the cached
// closure for this bytecode, or load and cache one.
void decode_pure_function(Dec* d, const char* bc, std::size_t n) {
  lua_State* L = d->L;
  get_cache(d, false);
  lua_pushlstring(L, bc, n);  // key
  lua_pushvalue(L, -1);
  if (lua_rawget(L, kSlotCache) == LUA_TFUNCTION) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  load(d, bc, n);
  for (int i = 1;; ++i) {
    push_globals(L);
    if (!lua_setupvalue(L, -2, i)) {
      lua_pop(L, 1);
      break;
    }
  }
  // Cache count lives at integer key 1 (every other key is a string).
  lua_rawgeti(L, kSlotCache, 1);
  lua_Integer count = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (count >= kCacheMax) {
    get_cache(d, true);
    count = 0;
  }
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_rawset(L, kSlotCache);
  lua_pushinteger(L, count + 1);
  lua_rawseti(L, kSlotCache, 1);
  lua_remove(L, -2);
}

bool valid_upvalue(lua_State* L, int f, std::uint64_t n) {
  if (lua_type(L, f) != LUA_TFUNCTION || lua_iscfunction(L, f) || n == 0 || n > 255) return false;
  if (!lua_getupvalue(L, f, static_cast<int>(n))) return false;
  lua_pop(L, 1);
  return true;
}

}  // namespace

void decode_function(Dec* d, std::uint8_t tag) {
  lua_State* L = d->L;
  enter(d);
  std::uint32_t len;
  const char* bc;
  if (!d->r.u32(len) || !d->r.bytes(len, bc)) corrupt(d, "bad function");
  if ((tag & ~kShared) == kPureFunc) {
    decode_pure_function(d, bc, len);
    remember(d, lua_gettop(L), tag & kShared);
    --d->depth;
    return;
  }
  load(d, bc, len);
  int f = lua_gettop(L);
  remember(d, f, tag & kShared);
  std::uint64_t nups;
  if (!d->r.varint(nups) || nups > 255) corrupt(d, "bad upvalue count");
  for (int i = 1; i <= static_cast<int>(nups); ++i) {
    if (d->r.at_end()) corrupt(d, "truncated upvalues");
    std::uint8_t t = *d->r.p;
    if (t == kUpJoin) {
      ++d->r.p;
      std::uint64_t dist, n;
      if (!d->r.varint(dist) || !d->r.varint(n)) corrupt(d, "bad upvalue");
      push_ref(d, dist);
      if (!valid_upvalue(L, lua_gettop(L), n) ||
          !valid_upvalue(L, f, static_cast<std::uint64_t>(i)))
        corrupt(d, "bad shared upvalue");
      lua_upvaluejoin(L, f, i, -1, static_cast<int>(n));
      lua_pop(L, 1);
      continue;
    }
    if (t == kModule) {
      ++d->r.p;
      const char* name;
      std::size_t n;
      read_name(d, name, n);
      require(d, name, n);
    } else {
      decode_value(d);
    }
    if (!lua_setupvalue(L, f, i)) corrupt(d, "upvalue count mismatch");
  }
  if (lua_getupvalue(L, f, static_cast<int>(nups) + 1)) corrupt(d, "upvalue count mismatch");
  --d->depth;
}

void decode_cfunction(Dec* d) {
  lua_State* L = d->L;
  const char *module, *field;
  std::size_t mn, fn;
  read_name(d, module, mn);
  read_name(d, field, fn);
  lua_pushlstring(L, module, mn);
  lua_pushlstring(L, field, fn);
  int m = lua_gettop(L) - 1;
  if (mn == 2 && module[0] == '_' && module[1] == 'G')
    push_globals(L);
  else
    require(d, module, mn);
  if (lua_type(L, -1) != LUA_TTABLE)
    luaL_error(L, "cannot decode C function %s.%s: module is not a table", lua_tostring(L, m),
               lua_tostring(L, m + 1));
  lua_pushvalue(L, m + 1);
  if (lua_gettable(L, -2) != LUA_TFUNCTION)
    luaL_error(L, "cannot decode C function %s.%s: not a function in the receiving state",
               lua_tostring(L, m), lua_tostring(L, m + 1));
  lua_replace(L, m);
  lua_settop(L, m);
}

}  // namespace tide::codec::dec
