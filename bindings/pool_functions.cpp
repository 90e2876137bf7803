// submit's function cache (pool_binding.hpp): a function whose upvalues are
// only the global table (or none), and any C function, is encoded once per
// submitting state and the blob reused for every later submit (a weak table
// fn -> blob box, and bytecode -> box for equal closures made in a loop);
// each worker then decodes it once. A closure with other upvalues is encoded
// at every submit, so workers see its upvalues as they were at that submit.
#include <memory>
#include <new>

#include "codec/codec.hpp"
#include "pool_binding.hpp"

namespace tide::pool_binding {

using pool::FunctionBlob;

struct BlobBox {
  std::shared_ptr<const FunctionBlob> blob;
};

namespace {

constexpr const char* kBlobs = "tide.pool.blobs";              // weak fn -> BlobBox
constexpr const char* kBlobsByCode = "tide.pool.blobs_by_code";  // bytecode -> weak BlobBox
constexpr const char* kBoxMeta = "tide.pool.BlobBox";  // its metatable

int box_gc(lua_State* L) {
  static_cast<BlobBox*>(lua_touserdata(L, 1))->~BlobBox();
  return 0;
}

// True for a C function or a Lua function whose upvalues are all the
// global table: its encoding never changes, so it can be reused.
bool cacheable(lua_State* L, int fn) {
  if (lua_iscfunction(L, fn)) return true;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  const void* globals = lua_topointer(L, -1);
  lua_pop(L, 1);
  for (int i = 1; lua_getupvalue(L, fn, i); ++i) {
    bool g = lua_type(L, -1) == LUA_TTABLE && lua_topointer(L, -1) == globals;
    lua_pop(L, 1);
    if (!g) return false;
  }
  return true;
}

// A registry table with weak keys or values (`mode`), created if missing.
void push_weak_table(lua_State* L, const char* key, const char* mode) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

// lua_dump into a Lua string, as string.dump does: the buffer starts in
// the first write, above the function being dumped.
struct DumpState {
  luaL_Buffer b;
  bool init = false;
};

int dump_to_buffer(lua_State* L, const void* p, std::size_t n, void* ud) {
  auto* d = static_cast<DumpState*>(ud);
  if (!d->init) {
    d->init = true;
    luaL_buffinit(L, &d->b);
  }
  luaL_addlstring(&d->b, static_cast<const char*>(p), n);
  return 0;
}

// The box caching fn's blob (created empty if new), or nullptr when fn is
// not cacheable. Found by closure first, then by bytecode: a loop that
// submits `function(x) ... end` makes a new closure each time, all equal.
// Lua API only: may raise, holds no C++ object.
BlobBox* box_for(lua_State* L, int fn) {
  if (!cacheable(L, fn)) return nullptr;
  int top = lua_gettop(L);
  push_weak_table(L, kBlobs, "k");  // closure -> box
  lua_pushvalue(L, fn);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    auto* box = static_cast<BlobBox*>(lua_touserdata(L, -1));
    lua_settop(L, top);
    return box;
  }
  lua_pop(L, 1);
  push_weak_table(L, kBlobsByCode, "v");  // bytecode -> box
  if (lua_iscfunction(L, fn)) {
    lua_pushlightuserdata(L, reinterpret_cast<void*>(lua_tocfunction(L, fn)));
  } else {
    DumpState d;
    lua_pushvalue(L, fn);
    lua_dump(L, dump_to_buffer, &d, 0);  // with debug info: line numbers must match
    if (!d.init) luaL_buffinit(L, &d.b);
    luaL_pushresult(&d.b);
    lua_remove(L, -2);
  }
  int code = lua_gettop(L);
  BlobBox* box;
  lua_pushvalue(L, code);
  if (lua_rawget(L, -3) == LUA_TUSERDATA) {
    box = static_cast<BlobBox*>(lua_touserdata(L, -1));
  } else {
    lua_pop(L, 1);
    box = static_cast<BlobBox*>(lua_newuserdatauv(L, sizeof(BlobBox), 0));
    new (box) BlobBox{};
    if (luaL_newmetatable(L, kBoxMeta)) {
      lua_pushcfunction(L, box_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, code);
    lua_pushvalue(L, -2);
    lua_rawset(L, code - 1);
  }
  lua_pushvalue(L, fn);
  lua_pushvalue(L, -2);
  lua_rawset(L, top + 1);
  lua_settop(L, top);
  return box;
}

std::shared_ptr<const FunctionBlob> encode_function(lua_State* L, int fn, bool cacheable, bool portable) {
  auto blob = std::make_shared<FunctionBlob>();
  codec::encode(L, fn, 1, blob->message, {"function", 0, portable});
  blob->cacheable = cacheable;
  return blob;
}

}  // namespace

BlobBox* blob_box(lua_State* L, int fn) { return box_for(L, fn); }

std::shared_ptr<const FunctionBlob> function_blob(lua_State* L, int fn, BlobBox* box, bool portable) {
  if (!box) return encode_function(L, fn, false, portable);
  if (!box->blob) box->blob = encode_function(L, fn, true, portable);
  return box->blob;
}


}  // namespace tide::pool_binding
