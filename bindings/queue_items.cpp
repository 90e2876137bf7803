#include "queue_items.hpp"

#include <atomic>
#include <mutex>

#include "codec/codec.hpp"
#include "core/error.hpp"
#include "queue/priority_key.hpp"
#include "queue/scalar_wire.hpp"

namespace tide::queue_items {

namespace {

namespace sw = queue::scalar_wire;
using queue::Item;
using queue::Kind;

std::atomic<bool> g_fast{false};

// ---- the scalar fast path ----

// The codec bytes of a small scalar at `idx` in `out`; 0 if it is not one.
std::size_t fast_encode(lua_State* L, int idx, char* out) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      return lua_isinteger(L, idx) ? sw::encode_int(out, lua_tointeger(L, idx))
                                   : sw::encode_float(out, lua_tonumber(L, idx));
    case LUA_TBOOLEAN:
      return sw::encode_bool(out, lua_toboolean(L, idx));
    case LUA_TSTRING: {
      std::size_t n;
      const char* s = lua_tolstring(L, idx, &n);
      return n <= sw::kMaxString ? sw::encode_string(out, s, n) : 0;
    }
    default:
      return 0;
  }
}

// Pushes the scalar `bytes` hold; false (nothing pushed) if they hold
// something else.
bool fast_push(lua_State* L, std::string_view bytes) {
  sw::Scalar v = sw::decode(bytes);
  switch (v.type) {
    case sw::Scalar::Int: lua_pushinteger(L, v.i); return true;
    case sw::Scalar::Float: lua_pushnumber(L, v.f); return true;
    case sw::Scalar::Bool: lua_pushboolean(L, v.b); return true;
    case sw::Scalar::String: lua_pushlstring(L, v.s.data(), v.s.size()); return true;
    default: return false;
  }
}

// Under lua_pcall: pushes the sample values.
int push_samples(lua_State* L) {
  lua_pushinteger(L, 0);
  lua_pushinteger(L, 127);
  lua_pushinteger(L, 128);
  lua_pushinteger(L, -1);
  lua_pushinteger(L, -300);
  lua_pushinteger(L, LUA_MAXINTEGER);
  lua_pushinteger(L, LUA_MININTEGER);
  lua_pushnumber(L, 0.5);
  lua_pushnumber(L, -0.0);
  lua_pushnumber(L, 2.0);
  lua_pushnumber(L, 1e300);
  lua_pushboolean(L, 1);
  lua_pushboolean(L, 0);
  lua_pushliteral(L, "");
  lua_pushliteral(L, "x");
  lua_pushlstring(L, "0123456789abcdef\0ghijklmnopq", sw::kMaxString);
  return lua_gettop(L);
}

// Encodes each sample with the codec and with the fast path, and reads the
// fast bytes back: all must agree exactly.
bool fast_path_agrees(lua_State* L) {
  int top = lua_gettop(L);
  lua_pushcfunction(L, push_samples);
  if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    lua_settop(L, top);
    return false;
  }
  bool ok = true;
  for (int i = top + 1; ok && i <= lua_gettop(L); ++i) {
    Message m;
    codec::encode(L, i, 1, m, {"item", 0});
    char buf[31];
    std::size_t n = fast_encode(L, i, buf);
    ok = n > 0 && m.objects.empty() && m.bytes == std::string_view(buf, n) && lua_checkstack(L, 1) &&
         fast_push(L, {buf, n});
    if (ok) {
      ok = lua_type(L, -1) == lua_type(L, i) && lua_rawequal(L, -1, i) &&
           lua_isinteger(L, -1) == lua_isinteger(L, i);
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  return ok;
}

// ---- PriorityQueue keys (see host/queue/priority_key.hpp) ----

enum class KeyPart { Added, NotComparable, Stopped };
constexpr int kMaxKeyDepth = 32;
KeyPart add_key(lua_State* L, int idx, queue::KeyBuilder& kb, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        kb.add_int(lua_tointeger(L, idx));
      else
        kb.add_float(lua_tonumber(L, idx));
      return KeyPart::Added;
    case LUA_TSTRING: {
      std::size_t n;
      const char* s = lua_tolstring(L, idx, &n);
      kb.add_string({s, n});
      return KeyPart::Added;
    }
    case LUA_TTABLE: {
      lua_Unsigned n = lua_rawlen(L, idx);
      if (depth >= kMaxKeyDepth || !lua_checkstack(L, 3)) return KeyPart::NotComparable;
      if (n == 0) {  // {} is the empty tuple; a table with only hash keys is no tuple
        lua_pushnil(L);
        if (lua_next(L, idx)) {
          lua_pop(L, 2);
          return KeyPart::NotComparable;
        }
      }
      kb.open();
      for (lua_Unsigned i = 1; i <= n; ++i) {
        lua_rawgeti(L, idx, static_cast<lua_Integer>(i));
        KeyPart p = add_key(L, lua_gettop(L), kb, depth + 1);
        lua_pop(L, 1);
        if (p == KeyPart::NotComparable) kb.opaque();
        if (p != KeyPart::Added) return KeyPart::Stopped;
      }
      kb.close();
      return KeyPart::Added;
    }
    default:
      return KeyPart::NotComparable;
  }
}

std::string priority_key(lua_State* L, int idx) {
  queue::KeyBuilder kb;
  if (add_key(L, idx, kb, 0) == KeyPart::NotComparable)
    throw Error(ErrorKind::ArgumentError,
                std::string("PriorityQueue items must be numbers, strings or array tables "
                            "({priority, data}), got ") +
                    (lua_istable(L, idx) ? "a table with non-array keys" : luaL_typename(L, idx)));
  return kb.take();
}

}  // namespace

void verify_fast_path(lua_State* L) noexcept {
  static std::once_flag once;
  std::call_once(once, [L] {
    try {
      g_fast.store(fast_path_agrees(L), std::memory_order_release);
    } catch (...) {
      g_fast.store(false, std::memory_order_release);
    }
  });
}

bool scalar_slot(lua_State* L, int idx, queue::Slot& slot) {
  if (!g_fast.load(std::memory_order_relaxed)) return false;
  std::size_t n = fast_encode(L, idx, slot.data);
  slot.tag = static_cast<std::uint8_t>(n);
  return n > 0;
}

Item make_item(lua_State* L, int idx, Kind kind, Message& scratch) {
  if (lua_isnoneornil(L, idx)) throw Error(ErrorKind::ArgumentError, "nil is not a queue item");
  std::string key;
  if (kind == Kind::Priority) key = priority_key(L, idx);
  scratch.clear();
  codec::encode(L, idx, 1, scratch, {"item", 0});
  Item item = Item::from_message(scratch);
  scratch.clear();
  if (kind == Kind::Priority) item.set_key(std::move(key));
  return item;
}

namespace {

void push_value(lua_State* L, bool has_objects, std::string_view bytes, auto&& message) {
  if (!has_objects) {
    if (bytes.size() <= 31 && g_fast.load(std::memory_order_relaxed) && fast_push(L, bytes)) return;
    codec::decode_bytes(L, bytes, 1);
    return;
  }
  Message m = message();
  codec::decode(L, m);
}

}  // namespace

int push_item(lua_State* L, const Item& item) {
  push_value(L, item.has_objects(), item.bytes(), [&] { return item.message(); });
  return 1;
}

void add_item(lua_State* L, int idx, Kind kind, Message& scratch, queue::ItemBatch& batch) {
  if (kind != Kind::Priority) {
    batch.reserve(1);
    if (scalar_slot(L, idx, batch.add_small())) return;
    batch.drop_last();
  }
  batch.add(make_item(L, idx, kind, scratch));
}

void push_batch_item(lua_State* L, const queue::ItemBatch& batch, std::size_t i) {
  push_value(L, batch.has_objects(i), batch.bytes(i), [&] { return batch.message(i); });
}

}  // namespace tide::queue_items
