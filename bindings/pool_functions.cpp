// submit's function cache (pool_binding.hpp): a function whose upvalues are
// only the global table (or none), and any C function, is encoded once per
// submitting state and the blob reused for every later submit; each worker
// then decodes it once. A closure with other upvalues is encoded at every
// submit, so workers see its upvalues as they were at that submit.
//
// Boxes are found by closure (a weak-keyed table) and, for a closure not
// seen before, by its bytecode: a loop that submits `function(x) ... end`
// makes a new, equal closure each time (issue 14, W4). That look-up first
// compares the dump, as lua_dump writes it, with the code of the last box
// it found, unless the closure shares its prototype with the one that box
// was made for (support/proto_identity.hpp: then the bytecode is the same
// and there is nothing to dump); failing that it dumps into a reused
// buffer and keys by the dump's hash (checked against the box's copy), so
// it allocates nothing either way. Such a closure is remembered by
// itself only when it is the first of its bytecode or is found twice in a
// row in its box: remembering every fresh literal grew the closure table by
// one entry per submit, a table GC had to walk and lookups that missed the
// cache.
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "codec/codec.hpp"
#include "pool_binding.hpp"
#include "support/proto_identity.hpp"

namespace tide::pool_binding {

using pool::FunctionBlob;

struct BlobBox {
  std::shared_ptr<const FunctionBlob> blob;
  std::string code;  // the bytecode it is found by; empty for a C function
  // Finalized: a closure resurrected by another finalizer can still find
  // its box in the weak-keyed table after the box's __gc ran.
  bool dead = false;
};

namespace {

constexpr const char* kBlobs = "tide.pool.blobs";              // weak fn -> BlobBox
constexpr const char* kBlobsByCode = "tide.pool.blobs_by_code";  // hash of bytecode -> weak BlobBox
// In kBlobsByCode (its weak values hold it weakly too): the box last found
// by code. Static address: no C function's.
const char kLastBox = 0;
constexpr const char* kBoxMeta = "tide.pool.BlobBox";  // its metatable

// A box's user value 1 is the last closure found in it by code (the one it
// was made for, at first): same_proto compares prototypes with it, and a
// closure found twice in a row is worth remembering by itself.

// Frees what the box holds and leaves an empty, dead one (owning nothing)
// for Lua to free later.
int box_gc(lua_State* L) {
  auto* box = static_cast<BlobBox*>(lua_touserdata(L, 1));
  box->~BlobBox();
  new (box) BlobBox{};
  box->dead = true;
  return 0;
}

std::size_t hash_of(const std::string& code) noexcept { return std::hash<std::string_view>{}(code); }

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

// lua_dump's writer: a C++ exception must not cross Lua's C frames.
int dump_to_string(lua_State*, const void* p, std::size_t n, void* ud) noexcept {
  try {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
    return 0;
  } catch (...) {
    return 1;
  }
}

// fn's bytecode (with debug info: line numbers must match) in a buffer
// reused by this thread; empty if it could not be had.
const std::string& dump(lua_State* L, int fn) {
  thread_local std::string code;
  code.clear();
  lua_pushvalue(L, fn);
  if (lua_dump(L, dump_to_string, &code, 0) != 0) code.clear();
  lua_pop(L, 1);
  return code;
}

// lua_dump's writer that compares the dump with `want` as it comes, and
// stops it at the first difference.
struct DumpCompare {
  const std::string* want;
  std::size_t pos = 0;
};

int compare_dump(lua_State*, const void* p, std::size_t n, void* ud) noexcept {
  auto* c = static_cast<DumpCompare*>(ud);
  if (n > c->want->size() - c->pos || std::memcmp(c->want->data() + c->pos, p, n) != 0) return 1;
  c->pos += n;
  return 0;
}

// True if fn's bytecode (as dump() makes it) is `code`.
bool dumps_as(lua_State* L, int fn, const std::string& code) {
  DumpCompare c{&code};
  lua_pushvalue(L, fn);
  int r = lua_dump(L, compare_dump, &c, 0);
  lua_pop(L, 1);
  return r == 0 && c.pos == code.size();
}

// True if fn was made from the same prototype as the last closure found
// in the box at `box`, so it has the box's bytecode.
bool same_proto(lua_State* L, int fn, int box) {
  const void* proto = proto_of(L, fn);
  if (!proto) return false;
  lua_getiuservalue(L, box, 1);
  bool same = proto_of(L, -1) == proto;
  lua_pop(L, 1);
  return same;
}

// True when fn was also the last closure found in the box at `box` (it is
// being reused, so worth remembering by itself); otherwise it becomes that
// one.
bool seen_twice(lua_State* L, int box, int fn) {
  lua_getiuservalue(L, box, 1);
  bool again = lua_rawequal(L, -1, fn);
  lua_pop(L, 1);
  if (!again) {
    lua_pushvalue(L, fn);
    lua_setiuservalue(L, box, 1);
  }
  return again;
}

// A new box for `code` (a C function's: nullptr) on the stack, keeping the
// function at `fn` (for same_proto). Copies the bytecode only after the Lua
// calls, which may raise or run a finalizer that dumps another function
// into the same buffer (then the hash tells).
BlobBox* new_box(lua_State* L, int fn, const std::string* code, std::size_t hash) {
  auto* box = static_cast<BlobBox*>(lua_newuserdatauv(L, sizeof(BlobBox), 1));
  new (box) BlobBox{};
  if (luaL_newmetatable(L, kBoxMeta)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if (!code) return box;
  lua_pushvalue(L, fn);
  lua_setiuservalue(L, -2, 1);
  try {
    box->code = *code;
  } catch (...) {
    return nullptr;  // the box is garbage; its __gc runs the destructor
  }
  return hash_of(box->code) == hash ? box : nullptr;
}

// Pushes the box caching fn's blob (created empty if new) and returns it;
// pushes nil and returns nullptr when fn is not cacheable. Lua API only: may
// raise, holds no C++ object.
BlobBox* box_for(lua_State* L, int fn) {
  fn = lua_absindex(L, fn);
  int top = lua_gettop(L);
  auto none = [&]() -> BlobBox* {
    lua_settop(L, top);
    lua_pushnil(L);
    return nullptr;
  };
  const int by_fn = top + 1, by_code = top + 2, key = top + 3, found = top + 4;
  // Leaves the box at index `at` as the one result, first remembered as
  // fn's own when `keep`.
  auto found_at = [&](BlobBox* box, int at, bool keep) {
    if (keep) {
      lua_pushvalue(L, fn);
      lua_pushvalue(L, at);
      lua_rawset(L, by_fn);
    }
    lua_pushvalue(L, at);
    lua_replace(L, by_fn);
    lua_settop(L, by_fn);
    return box;
  };
  if (!cacheable(L, fn)) return none();
  push_weak_table(L, kBlobs, "k");
  lua_pushvalue(L, fn);
  if (lua_rawget(L, by_fn) == LUA_TUSERDATA) {
    auto* box = static_cast<BlobBox*>(lua_touserdata(L, -1));
    if (box->dead) return none();
    lua_replace(L, by_fn);
    return box;
  }
  lua_pop(L, 1);
  push_weak_table(L, kBlobsByCode, "v");
  // A loop submitting `function(x) ... end` makes a new closure of the same
  // prototype each time: found by that, or else compared with the last box
  // found by code as it is dumped, it needs no buffer, hash or look-up
  // (issue 14, W4).
  if (!lua_iscfunction(L, fn) && lua_rawgetp(L, by_code, &kLastBox) == LUA_TUSERDATA) {
    auto* last = static_cast<BlobBox*>(lua_touserdata(L, key));
    if (!last->dead && (same_proto(L, fn, key) || dumps_as(L, fn, last->code)))
      return found_at(last, key, seen_twice(L, key, fn));
  }
  lua_settop(L, by_code);
  const std::string* code = nullptr;
  std::size_t hash = 0;
  if (lua_iscfunction(L, fn)) {
    lua_pushlightuserdata(L, reinterpret_cast<void*>(lua_tocfunction(L, fn)));
  } else {
    code = &dump(L, fn);
    if (code->empty()) return none();
    hash = hash_of(*code);
    lua_pushinteger(L, static_cast<lua_Integer>(hash));
  }
  BlobBox* box;
  bool fresh = false;
  lua_pushvalue(L, key);
  if (lua_rawget(L, by_code) == LUA_TUSERDATA) {
    box = static_cast<BlobBox*>(lua_touserdata(L, found));
    // Compared before anything here allocates (the buffer is still fn's).
    if (box->dead || (code && box->code != *code)) return none();  // or another function, same hash
  } else {
    lua_pop(L, 1);
    box = new_box(L, fn, code, hash);
    if (!box) return none();
    lua_pushvalue(L, key);
    lua_pushvalue(L, found);
    lua_rawset(L, by_code);
    fresh = true;
  }
  if (code) {
    lua_pushvalue(L, found);
    lua_rawsetp(L, by_code, &kLastBox);
  }
  return found_at(box, found, fresh || !code || seen_twice(L, found, fn));
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
