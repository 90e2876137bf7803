// The encoder: Lua values -> Message (wire format in wire.hpp).
//
// encode() keeps every C++ object (the Enc state with its maps, the
// message) in its own frame. Top-level scalars are written directly; the
// rest runs as enc_main under lua_pcall, where every local is trivially
// destructible and failure is a Lua error, turned into TransferError once
// lua_pcall has returned.
#include <cstring>

#include "codec/codec.hpp"
#include "codec/encoder.hpp"
#include "codec/protect.hpp"
#include "wire/wire.hpp"
#include "core/error.hpp"
#include "luabase/cfunctions.hpp"
#include "luabase/handles.hpp"

namespace tide::codec {
namespace {

using namespace wire;
using namespace enc;

void encode_complex(Enc* e, int idx, int type);

// 1 written, 0 not a scalar, -1 out of memory. Never raises.
[[gnu::always_inline]] inline int put_scalar(Writer& w, lua_State* L, int idx,
                                             int type) noexcept {
  bool ok;
  switch (type) {
    case LUA_TNIL: ok = w.put_u8(kNil); break;
    case LUA_TBOOLEAN: ok = w.put_u8(lua_toboolean(L, idx) ? kTrue : kFalse); break;
    case LUA_TNUMBER:
      ok = lua_isinteger(L, idx) ? w.put_int(lua_tointeger(L, idx))
                                 : w.put_float(lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      std::size_t n;
      const char* s = lua_tolstring(L, idx, &n);
      ok = w.put_string(s, n);
      break;
    }
    default: return 0;
  }
  return ok ? 1 : -1;
}

inline void push_seg(Enc* e, Seg kind, int key, const char* name) {
  e->segs[e->nsegs++] = PathSeg{kind, key, name};
}

void encode_value(Enc* e, int idx) {
  int type = lua_type(e->L, idx);
  int r = put_scalar(e->w, e->L, idx, type);
  if (r == 0) return encode_complex(e, idx, type);
  if (r < 0) oom(e);
}

// A table's key or value. The path segment is only recorded for values
// that can fail (tables, functions, userdata...).
inline void encode_child(Enc* e, int idx, Seg kind, int key) {
  int type = lua_type(e->L, idx);
  int r = put_scalar(e->w, e->L, idx, type);
  if (r > 0) return;
  if (r < 0) oom(e);
  push_seg(e, kind, key, nullptr);
  encode_complex(e, idx, type);
  --e->nsegs;
}

// Entering a table or function: one more level of nesting.
void enter(Enc* e, int extra_slots) {
  if (e->depth >= kMaxDepth) {
    lua_pushfstring(e->L, "value nested deeper than %d levels", kMaxDepth);
    fail(e, lua_tostring(e->L, -1));
  }
  ++e->depth;
  if (!lua_checkstack(e->L, extra_slots)) oom(e);
}

// A table, function or userdata seen before in this call becomes a ref.
bool write_ref(Enc* e, const void* p) {
  PtrEntry* seen = e->seen.find(p);
  if (!seen) return false;
  e->w.set_bits(seen->pos, kShared);
  check(e, e->w.put_tag_varint(kRef, e->next_id - seen->id));
  return true;
}

std::uint32_t remember(Enc* e, const void* p, std::size_t tag_pos) {
  PtrEntry* entry = e->seen.insert(p);
  if (!entry) oom(e);
  entry->pos = tag_pos;
  entry->id = e->next_id;
  return e->next_id++;
}

bool is_error_table(Enc* e, int idx) {
  lua_State* L = e->L;
  if (!lua_getmetatable(L, idx)) return false;
  if (!e->error_mt_known) {
    luaL_getmetatable(L, "tide.Error");
    e->error_mt = lua_type(L, -1) == LUA_TTABLE ? lua_topointer(L, -1) : nullptr;
    e->error_mt_known = true;
    lua_pop(L, 1);
  }
  bool is = e->error_mt && lua_topointer(L, -1) == e->error_mt;
  lua_pop(L, 1);
  return is;
}

void encode_table(Enc* e, int idx) {
  lua_State* L = e->L;
  const void* p = lua_topointer(L, idx);
  if (p == e->globals) return check(e, e->w.put_u8(kGlobals));
  if (write_ref(e, p)) return;
  enter(e, 6);
  std::uint8_t tag = is_error_table(e, idx) ? kTable | kErrorTable : kTable;
  std::size_t tag_pos = e->w.pos();
  check(e, e->w.put_u8(tag) && e->w.put_u32(0) && e->w.put_u32(0));
  remember(e, p, tag_pos);
  // Keys 1, 2, 3... as long as lua_next yields them in order go into the
  // array section (no keys written); everything after as key/value pairs.
  std::uint32_t narr = 0, nhash = 0;
  bool array = true;
  lua_pushnil(L);
  const int k = lua_gettop(L), v = k + 1;
  while (lua_next(L, idx)) {
    if (array) {
      if (lua_isinteger(L, k) && lua_tointeger(L, k) == static_cast<lua_Integer>(narr) + 1) {
        ++narr;
        encode_child(e, v, Seg::Key, k);
        lua_settop(L, k);
        continue;
      }
      array = false;
    }
    ++nhash;
    encode_child(e, k, Seg::KeyOf, 0);
    encode_child(e, v, Seg::Key, k);
    lua_settop(L, k);
  }
  e->w.patch_u32(tag_pos + 1, narr);
  e->w.patch_u32(tag_pos + 5, nhash);
  --e->depth;
}

// The table at `idx` is a value of the source's package.loaded (under a name
// other than "_G"): writes MODULE name.
bool write_module(Enc* e, int idx) {
  lua_State* L = e->L;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) != LUA_TTABLE) {
    lua_pop(L, 1);
    return false;
  }
  int loaded = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, loaded)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, idx)) {
      std::size_t n;
      const char* name = lua_tolstring(L, -2, &n);
      if (!(n == 2 && std::memcmp(name, "_G", 2) == 0)) {
        check(e, e->w.put_u8(kModule) && e->w.put_string(name, n));
        lua_pop(L, 3);
        return true;
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return false;
}

int dump_writer(lua_State*, const void* p, std::size_t n, void* ud) {
  return static_cast<Enc*>(ud)->w.put_raw(p, n) ? 0 : 1;
}

// 1 written, 0 unregistered, -1 out of memory. No Lua calls: the Name's
// strings must be destroyed before anything can raise.
int write_cfunction(Writer& w, lua_CFunction f) noexcept {
  try {
    cfunctions::Name name;
    if (!cfunctions::find(f, name)) return 0;
    return w.put_u8(kCFunc) && w.put_string(name.module.data(), name.module.size()) &&
                   w.put_string(name.field.data(), name.field.size())
               ? 1
               : -1;
  } catch (...) {
    return -1;
  }
}

void encode_function(Enc* e, int idx) {
  lua_State* L = e->L;
  if (lua_iscfunction(L, idx)) {
    int r = write_cfunction(e->w, lua_tocfunction(L, idx));
    if (r < 0) oom(e);
    if (r == 0) fail(e, "cannot transfer an unregistered C function");
    return;
  }
  const void* p = lua_topointer(L, idx);
  if (write_ref(e, p)) return;
  enter(e, 6);
  // Pure: every upvalue (if any) is the global table, so the receiver can
  // reuse a cached closure.
  bool pure = true;
  int nups = 0;
  while (lua_getupvalue(L, idx, nups + 1)) {
    if (lua_type(L, -1) != LUA_TTABLE || lua_topointer(L, -1) != e->globals) pure = false;
    lua_pop(L, 1);
    ++nups;
  }
  std::size_t tag_pos = e->w.pos();
  check(e, e->w.put_u8(pure ? kPureFunc : kFunc) && e->w.put_u32(0));
  std::uint32_t id = remember(e, p, tag_pos);
  lua_pushvalue(L, idx);
  if (lua_dump(L, dump_writer, e, 0) != 0) oom(e);
  lua_pop(L, 1);
  std::size_t len = e->w.pos() - tag_pos - 5;
  if (len > 0xffffffffu) fail(e, "cannot transfer a function this large");
  e->w.patch_u32(tag_pos + 1, static_cast<std::uint32_t>(len));
  if (!pure) {
    check(e, e->w.put_varint(static_cast<std::uint64_t>(nups)));
    for (int i = 1; i <= nups; ++i) {
      const char* name = lua_getupvalue(L, idx, i);
      int v = lua_gettop(L);
      const void* uid = lua_upvalueid(L, idx, i);
      if (PtrEntry* shared = e->upvals.find(uid)) {
        // Same upvalue as an earlier closure's: join it on decode.
        e->w.set_bits(shared->pos, kShared);
        check(e, e->w.put_tag_varint(kUpJoin, e->next_id - shared->id) &&
                     e->w.put_varint(shared->aux));
      } else {
        PtrEntry* entry = e->upvals.insert(uid);
        if (!entry) oom(e);
        entry->pos = tag_pos;
        entry->id = id;
        entry->aux = static_cast<std::uint32_t>(i);
        if (lua_type(L, v) != LUA_TTABLE || lua_topointer(L, v) == e->globals ||
            !write_module(e, v)) {
          push_seg(e, Seg::Upvalue, 0, name);
          encode_value(e, v);
          --e->nsegs;
        }
      }
      lua_pop(L, 1);
    }
  }
  --e->depth;
}

// -1 out of memory, else the index of the new object reference.
long add_object(Message& out, Object* obj) noexcept {
  try {
    out.objects.push_back(Ref<Object>::share(obj));
    return static_cast<long>(out.objects.size() - 1);
  } catch (...) {
    return -1;
  }
}

void encode_userdata(Enc* e, int idx) {
  lua_State* L = e->L;
  Handle* h = test_handle(L, idx);
  if (!h) fail(e, "cannot transfer a userdata");
  if (!h->obj || e->label.portable) {
    const char* name = "tide object";
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) name = lua_tostring(L, -1);
    if (h->obj) fail(e, lua_pushfstring(L, "a %s cannot leave this machine (only values cross)", name));
    fail(e, lua_pushfstring(L, "cannot transfer a closed %s", name));
  }
  const void* p = lua_topointer(L, idx);
  if (write_ref(e, p)) return;
  std::size_t tag_pos = e->w.pos();
  long index = add_object(*e->out, h->obj);
  if (index < 0) oom(e);
  check(e, e->w.put_tag_varint(kObject, static_cast<std::uint64_t>(index)));
  remember(e, p, tag_pos);
}

void encode_complex(Enc* e, int idx, int type) {
  lua_State* L = e->L;
  switch (type) {
    case LUA_TTABLE: return encode_table(e, idx);
    case LUA_TFUNCTION: return encode_function(e, idx);
    case LUA_TUSERDATA: return encode_userdata(e, idx);
    case LUA_TLIGHTUSERDATA: fail(e, "cannot transfer a light userdata");
    case LUA_TTHREAD: fail(e, "cannot transfer a coroutine");
    default: fail(e, lua_pushfstring(L, "cannot transfer a %s", luaL_typename(L, idx)));
  }
}

// Under lua_pcall: [1] = Enc*, [2..] = the values still to encode.
int enc_main(lua_State* L) {
  Enc* e = static_cast<Enc*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  e->globals = lua_topointer(L, -1);
  lua_pop(L, 1);
  int top = lua_gettop(L);
  bool failed = false;
  try {
    for (int i = 2; i <= top; ++i, ++e->value_no) encode_value(e, i);
  } catch (...) {  // nothing above should throw; never let it reach Lua
    failed = true;
  }
  if (failed) return luaL_error(L, "not enough memory");
  return 0;
}

}  // namespace

void encode(lua_State* L, int first, int n, Message& out, Label label) {
  if (n <= 0) return;
  if (!label.label) label.label = "value";
  first = lua_absindex(L, first);
  const int top = lua_gettop(L);
  const std::size_t old_size = out.bytes.size();
  const std::size_t old_objects = out.objects.size();
  try {
    Enc e(L, out, label);
    if (old_size == 0 && !(e.w.put_u8(kMagic) && e.w.put_u8(kVersion))) throw std::bad_alloc();
    int i = 0;
    for (; i < n; ++i) {
      int r = put_scalar(e.w, L, first + i, lua_type(L, first + i));
      if (r < 0) throw std::bad_alloc();
      if (r == 0) break;
    }
    if (i < n) {
      int rest = n - i;
      if (!lua_checkstack(L, rest + 3)) detail::throw_transfer("too many values to transfer");
      e.value_no = i;
      lua_pushcfunction(L, enc_main);
      lua_pushlightuserdata(L, &e);
      for (int j = i; j < n; ++j) lua_pushvalue(L, first + j);
      int status = lua_pcall(L, rest + 1, 0, 0);
      if (status != LUA_OK) detail::throw_pcall_error(L, status);
    }
    e.w.finish();
    out.count += n;
  } catch (...) {
    lua_settop(L, top);
    out.bytes.resize(old_size);
    out.objects.erase(out.objects.begin() + static_cast<std::ptrdiff_t>(old_objects),
                      out.objects.end());
    detail::rethrow_as_transfer_error();
  }
}

}  // namespace tide::codec
