// The encoder's TransferError messages: the path to the offending value,
// formatted only when something fails.
#include <cstdio>
#include <cstring>

#include "codec/encoder.hpp"
#include "codec/protect.hpp"

namespace tide::codec::enc {
namespace {

bool is_identifier(const char* s, std::size_t n) {
  static const char* const kKeywords[] = {
      "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
      "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"};
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  for (const char* k : kKeywords)
    if (std::strlen(k) == n && std::memcmp(k, s, n) == 0) return false;
  return true;
}

void add_quoted(luaL_Buffer* b, const char* s, std::size_t n) {
  constexpr std::size_t kMaxShown = 40;
  luaL_addchar(b, '"');
  for (std::size_t i = 0; i < n && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      luaL_addchar(b, '\\');
      luaL_addchar(b, static_cast<char>(c));
    } else if (c == '\n') {
      luaL_addstring(b, "\\n");
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%u", c);
      luaL_addstring(b, buf);
    } else {
      luaL_addchar(b, static_cast<char>(c));
    }
  }
  if (n > kMaxShown) luaL_addstring(b, "...");
  luaL_addchar(b, '"');
}

void add_key(lua_State* L, luaL_Buffer* b, int key) {
  switch (lua_type(L, key)) {
    case LUA_TSTRING: {
      std::size_t n;
      const char* s = lua_tolstring(L, key, &n);
      if (is_identifier(s, n)) {
        luaL_addchar(b, '.');
        luaL_addlstring(b, s, n);
      } else {
        luaL_addchar(b, '[');
        add_quoted(b, s, n);
        luaL_addchar(b, ']');
      }
      return;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, key))
        lua_pushfstring(L, "[%I]", static_cast<LUAI_UACINT>(lua_tointeger(L, key)));
      else
        lua_pushfstring(L, "[%f]", static_cast<LUAI_UACNUMBER>(lua_tonumber(L, key)));
      luaL_addvalue(b);
      return;
    case LUA_TBOOLEAN:
      luaL_addstring(b, lua_toboolean(L, key) ? "[true]" : "[false]");
      return;
    default:
      luaL_addchar(b, '[');
      luaL_addstring(b, luaL_typename(L, key));
      luaL_addchar(b, ']');
  }
}

}  // namespace

[[noreturn]] void fail(Enc* e, const char* what) {
  lua_State* L = e->L;
  if (!lua_checkstack(L, 10)) oom(e);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, e->label.label);
  if (e->label.first_number != 0) {
    lua_pushfstring(L, " %d", e->label.first_number + e->value_no);
    luaL_addvalue(&b);
  }
  // A path through hundreds of levels is shortened to its two ends, so the
  // reason at the end of the message is never cut off.
  constexpr int kShownEachEnd = 8;
  for (int i = 0; i < e->nsegs; ++i) {
    if (e->nsegs > 3 * kShownEachEnd && i == kShownEachEnd) {
      lua_pushfstring(L, "...(%d levels)...", e->nsegs - 2 * kShownEachEnd);
      luaL_addvalue(&b);
      i = e->nsegs - kShownEachEnd - 1;
      continue;
    }
    const PathSeg& s = e->segs[i];
    if (i == 0 && s.kind != Seg::Upvalue) luaL_addchar(&b, ' ');
    switch (s.kind) {
      case Seg::Key: add_key(L, &b, s.key); break;
      case Seg::KeyOf: luaL_addstring(&b, "[key]"); break;
      case Seg::Upvalue:
        luaL_addstring(&b, " upvalue '");
        luaL_addstring(&b, s.name && *s.name ? s.name : "?");
        luaL_addchar(&b, '\'');
        break;
    }
  }
  luaL_addstring(&b, ": ");
  luaL_addstring(&b, what);
  const bool is_key = e->nsegs > 0 && e->segs[e->nsegs - 1].kind == Seg::KeyOf;
  if (is_key && std::strncmp(what, "cannot", 6) == 0) luaL_addstring(&b, " as a table key");
  luaL_pushresult(&b);
  detail::raise(L);
}

[[noreturn]] void oom(Enc* e) {
  lua_pushliteral(e->L, "not enough memory");
  detail::raise(e->L);
}

}  // namespace tide::codec::enc
