// The decoder: Message or untrusted bytes -> Lua values.
//
// Leading top-level scalars are pushed directly (no call below can raise
// except a short string's allocation). The rest runs as dec_main under
// lua_pcall with only trivially destructible locals; any failure leaves the
// stack as it was and becomes a TransferError.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "codec/decoder.hpp"
#include "codec/protect.hpp"
#include "wire/wire.hpp"
#include "core/error.hpp"
#include "luabase/handles.hpp"

namespace tide::codec::dec {

using namespace wire;

// The receiving state's global table, kept at kSlotGlobals once fetched.
void push_globals(lua_State* L) {
  if (lua_type(L, kSlotGlobals) != LUA_TTABLE) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_replace(L, kSlotGlobals);
  }
  lua_pushvalue(L, kSlotGlobals);
}

[[noreturn]] void corrupt(Dec* d, const char* what) {
  luaL_error(d->L, "corrupt message: %s", what);
  __builtin_unreachable();
}

void enter(Dec* d) {
  if (d->depth >= kMaxDepth) luaL_error(d->L, "message nested deeper than %d levels", kMaxDepth);
  ++d->depth;
  if (!lua_checkstack(d->L, 8)) luaL_error(d->L, "stack overflow while decoding");
}

// Every table, function and object gets the next id; those the encoder saw
// referred to again (kShared) are kept in the refs table.
void remember(Dec* d, int idx, bool shared) {
  lua_State* L = d->L;
  lua_Integer id = d->next_id++;
  if (!shared) return;
  if (lua_type(L, kSlotRefs) != LUA_TTABLE) {
    lua_newtable(L);
    lua_replace(L, kSlotRefs);
  }
  lua_pushvalue(L, idx);
  lua_rawseti(L, kSlotRefs, id);
}

// Pushes the object `dist` ids back.
void push_ref(Dec* d, std::uint64_t dist) {
  lua_State* L = d->L;
  if (dist == 0 || dist > static_cast<std::uint64_t>(d->next_id) ||
      lua_type(L, kSlotRefs) != LUA_TTABLE)
    corrupt(d, "bad reference");
  if (lua_rawgeti(L, kSlotRefs, d->next_id - static_cast<lua_Integer>(dist)) == LUA_TNIL)
    corrupt(d, "bad reference");
}

// require(name), with `require` from the receiving state's globals.
void require(Dec* d, const char* name, std::size_t n) {
  lua_State* L = d->L;
  push_globals(L);
  int type = lua_getfield(L, -1, "require");
  lua_remove(L, -2);
  if (type != LUA_TFUNCTION)
    luaL_error(L, "cannot decode a module reference: no 'require' in the receiving state");
  lua_pushlstring(L, name, n);
  lua_call(L, 1, 1);
}

void read_name(Dec* d, const char*& s, std::size_t& n) {
  if (!d->r.string(s, n)) corrupt(d, "bad name");
}

}  // namespace tide::codec::dec

namespace tide::codec {
namespace {

using namespace wire;
using namespace dec;

// Strings longer than this are pushed under lua_pcall (allocation may fail).
constexpr std::size_t kFastStringMax = 64;
// More top-level values than this could not fit on a Lua stack anyway.
constexpr int kMaxValues = 1000000;

enum class Scalar { Pushed, NotScalar, Corrupt };

// Pushes the scalar at r (if the next value is one). Only the string push
// can raise, and only for lack of memory.
[[gnu::always_inline]] inline Scalar read_scalar(Reader& r, lua_State* L,
                                                std::size_t max_string) noexcept {
  if (r.at_end()) return Scalar::Corrupt;
  std::uint8_t t = *r.p;
  if (t >= kFixInt) {
    ++r.p;
    lua_pushinteger(L, t - kFixInt);
    return Scalar::Pushed;
  }
  if (t >= kShortStr && t <= kShortStr + kShortStrMax) {
    std::size_t n = t - kShortStr;
    if (r.remaining() < n + 1) return Scalar::Corrupt;
    lua_pushlstring(L, reinterpret_cast<const char*>(r.p + 1), n);
    r.p += n + 1;
    return Scalar::Pushed;
  }
  switch (t) {
    case kNil: ++r.p; lua_pushnil(L); return Scalar::Pushed;
    case kFalse: ++r.p; lua_pushboolean(L, 0); return Scalar::Pushed;
    case kTrue: ++r.p; lua_pushboolean(L, 1); return Scalar::Pushed;
    case kInt: {
      ++r.p;
      std::uint64_t v;
      if (!r.varint(v)) return Scalar::Corrupt;
      lua_pushinteger(L, static_cast<lua_Integer>(unzigzag(v)));
      return Scalar::Pushed;
    }
    case kFloat: {
      ++r.p;
      double d;
      if (!r.f64(d)) return Scalar::Corrupt;
      lua_pushnumber(L, static_cast<lua_Number>(d));
      return Scalar::Pushed;
    }
    case kStr: {
      Reader save = r;
      ++r.p;
      std::uint64_t n;
      if (!r.varint(n) || n > r.remaining()) return Scalar::Corrupt;
      if (n > max_string) {
        r = save;
        return Scalar::NotScalar;
      }
      lua_pushlstring(L, reinterpret_cast<const char*>(r.p), static_cast<std::size_t>(n));
      r.p += n;
      return Scalar::Pushed;
    }
    default: return Scalar::NotScalar;
  }
}

void decode_table(Dec* d, std::uint8_t tag) {
  lua_State* L = d->L;
  enter(d);
  std::uint32_t narr, nhash;
  if (!d->r.u32(narr) || !d->r.u32(nhash) || narr > d->r.remaining() ||
      nhash > d->r.remaining() / 2)
    corrupt(d, "bad table size");
  constexpr std::uint32_t kHintMax = 1u << 26;
  lua_createtable(L, static_cast<int>(std::min(narr, kHintMax)),
                  static_cast<int>(std::min(nhash, kHintMax)));
  int t = lua_gettop(L);
  remember(d, t, tag & kShared);
  for (lua_Integer i = 1; i <= static_cast<lua_Integer>(narr); ++i) {
    decode_value(d);
    lua_rawseti(L, t, i);
  }
  for (std::uint32_t i = 0; i < nhash; ++i) {
    std::uint8_t kt = decode_value(d);
    // Only these tags can have pushed a nil or a NaN (require may return
    // anything); lua_rawset would raise for either.
    if (kt == kNil || kt == kFloat || kt == kModule || kt == kGlobals) {
      int type = lua_type(L, -1);
      if (type == LUA_TNIL) corrupt(d, "nil table key");
      if (type == LUA_TNUMBER && !lua_isinteger(L, -1) && std::isnan(lua_tonumber(L, -1)))
        corrupt(d, "NaN table key");
    }
    decode_value(d);
    lua_rawset(L, t);
  }
  if (tag & kErrorTable) {
    if (luaL_getmetatable(L, "tide.Error") == LUA_TNIL && !d->required_tide) {
      lua_pop(L, 1);
      d->required_tide = true;
      require(d, "tide", 4);
      lua_pop(L, 1);
      luaL_getmetatable(L, "tide.Error");
    }
    if (lua_type(L, -1) != LUA_TTABLE)
      luaL_error(L, "cannot decode a tide error: no tide.Error metatable in the receiving state");
    lua_setmetatable(L, t);
  }
  --d->depth;
}

void decode_object(Dec* d, std::uint8_t tag) {
  std::uint64_t index;
  if (!d->r.varint(index)) corrupt(d, "bad object reference");
  if (!d->objects) corrupt(d, "object reference in raw bytes");
  if (index >= d->objects->size()) corrupt(d, "bad object reference");
  push_handle(d->L, (*d->objects)[static_cast<std::size_t>(index)].get());
  remember(d, lua_gettop(d->L), tag & kShared);
}

}  // namespace

// Pushes one value; returns the tag it started with.
std::uint8_t dec::decode_value(Dec* d) {
  lua_State* L = d->L;
  const std::uint8_t t = d->r.at_end() ? 0 : *d->r.p;
  switch (read_scalar(d->r, L, std::numeric_limits<std::size_t>::max())) {
    case Scalar::Pushed: return t;
    case Scalar::Corrupt: corrupt(d, "truncated or malformed value");
    case Scalar::NotScalar: break;
  }
  ++d->r.p;
  switch (t) {
    case kGlobals: push_globals(L); break;
    case kRef: {
      std::uint64_t dist;
      if (!d->r.varint(dist)) corrupt(d, "bad reference");
      push_ref(d, dist);
      break;
    }
    case kCFunc: decode_cfunction(d); break;
    case kModule: {
      const char* name;
      std::size_t n;
      read_name(d, name, n);
      require(d, name, n);
      break;
    }
    case kTable: case kTable | kShared: case kTable | kErrorTable:
    case kTable | kErrorTable | kShared:
      decode_table(d, t);
      break;
    case kFunc: case kFunc | kShared: case kPureFunc: case kPureFunc | kShared:
      decode_function(d, t);
      break;
    case kObject: case kObject | kShared: decode_object(d, t); break;
    default: corrupt(d, "unknown tag");
  }
  return t;
}

namespace {

// Under lua_pcall: [1] = Dec*. Returns the decoded values.
int dec_main(lua_State* L) {
  Dec* d = static_cast<Dec*>(lua_touserdata(L, kSlotDec));
  lua_settop(L, kSlotDec);
  lua_pushnil(L);  // kSlotRefs
  lua_pushnil(L);  // kSlotGlobals, filled by push_globals
  lua_pushnil(L);  // kSlotCache
  if (!lua_checkstack(L, d->count + 8)) luaL_error(L, "too many values to decode");
  bool failed = false;
  try {
    for (int i = 0; i < d->count; ++i) decode_value(d);
  } catch (...) {  // e.g. bad_alloc inside push_handle: never into Lua
    failed = true;
  }
  if (failed) return luaL_error(L, "not enough memory");
  return lua_gettop(L) - kFirstResult + 1;
}

int decode_impl(lua_State* L, std::string_view bytes, int count,
                const std::vector<Ref<Object>>* objects) {
  if (count < 0) detail::throw_transfer("corrupt message: negative value count");
  if (count == 0 && bytes.empty()) return 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  Reader r{p, p + bytes.size()};
  std::uint8_t magic, version;
  if (!r.u8(magic) || magic != kMagic || !r.u8(version))
    detail::throw_transfer("corrupt message: not a tide transfer message");
  if (version != kVersion)
    detail::throw_transfer("unsupported transfer message version " + std::to_string(version));
  if (static_cast<std::size_t>(count) > r.remaining())
    detail::throw_transfer("corrupt message: truncated");
  const int top = lua_gettop(L);
  if (count > kMaxValues || !lua_checkstack(L, count + 3))
    detail::throw_transfer("too many values to decode");
  try {
    int i = 0;
    for (; i < count; ++i) {
      Scalar s = read_scalar(r, L, kFastStringMax);
      if (s == Scalar::NotScalar) break;
      if (s == Scalar::Corrupt)
        detail::throw_transfer("corrupt message: truncated or malformed value");
    }
    if (i < count) {
      Dec d{L, r, objects, count - i};
      lua_pushcfunction(L, dec_main);
      lua_pushlightuserdata(L, &d);
      int status = lua_pcall(L, 1, LUA_MULTRET, 0);
      if (status != LUA_OK) detail::throw_pcall_error(L, status);
      r = d.r;
    }
    if (!r.at_end()) detail::throw_transfer("corrupt message: trailing bytes");
  } catch (...) {
    lua_settop(L, top);
    detail::rethrow_as_transfer_error();
  }
  return count;
}

}  // namespace

int decode(lua_State* L, const Message& in) {
  return decode_impl(L, in.bytes, in.count, &in.objects);
}

int decode_bytes(lua_State* L, std::string_view bytes, int count) {
  return decode_impl(L, bytes, count, nullptr);
}

}  // namespace tide::codec
