#include "support/proto_identity.hpp"

#include <atomic>

namespace tide {

namespace {

// Lua 5.4's LClosure, as lobject.h declares it (unchanged through 5.4.x):
// CommonHeader (next, tt, marked), nupvalues, gclist, then the Proto*. The
// headers Debian ships do not include lobject.h, so this mirrors it; the
// self-check below decides whether the running Lua lays closures out so.
struct LuaClosureLayout {
  void* next;
  unsigned char tt;
  unsigned char marked;
  unsigned char nupvalues;
  void* gclist;
  const void* proto;
};
constexpr unsigned char kLuaClosureTag = LUA_TFUNCTION;  // variant 0: a Lua closure

const LuaClosureLayout* layout_of(lua_State* L, int idx) {
  return static_cast<const LuaClosureLayout*>(lua_topointer(L, idx));
}

// Closures made for the check: a and b of one prototype, c of another, d of
// a third with two upvalues; the layout holds if the fields read back as
// Lua says they are. 1 if it holds, 2 if not, 0 if the chunk could not be
// run (no memory: check again next time).
int check_layout(lua_State* L) {
  static const char kChunk[] =
      "local function make() return function() end end\n"
      "local x, y = 1, 2\n"
      "return make(), make(), function() end, function() return x + y end";
  // On a thread of its own with no hook: the caller's hooks (a debugger, a
  // coverage tool, a sandbox's count hook) must not see or stop this chunk.
  lua_State* T = lua_newthread(L);
  lua_sethook(T, nullptr, 0, 0);
  int ok = 0;
  if (luaL_loadstring(T, kChunk) == LUA_OK && lua_pcall(T, 0, 4, 0) == LUA_OK) {
    const LuaClosureLayout* c[4];
    for (int i = 0; i < 4; ++i) c[i] = layout_of(T, i + 1);
    bool holds = c[0] && c[1] && c[2] && c[3] && c[0] != c[1];
    for (int i = 0; holds && i < 4; ++i) holds = c[i]->tt == kLuaClosureTag && c[i]->proto;
    holds = holds && c[0]->nupvalues == 0 && c[2]->nupvalues == 0 && c[3]->nupvalues == 2 &&
            c[0]->proto == c[1]->proto && c[0]->proto != c[2]->proto && c[2]->proto != c[3]->proto;
    ok = holds ? 1 : 2;
  }
  lua_pop(L, 1);  // the thread
  return ok;
}

// 0: not checked yet; 1: the layout holds; 2: it does not.
std::atomic<int> g_layout{0};

}  // namespace

const void* proto_of(lua_State* L, int idx) {
#if LUA_VERSION_NUM != 504
  (void)L, (void)idx;
  return nullptr;  // the mirror is 5.4's; other versions compare dumps
#else
  if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx)) return nullptr;
  int state = g_layout.load(std::memory_order_relaxed);
  if (state == 0) {
    idx = lua_absindex(L, idx);
    state = check_layout(L);
    if (state != 0) g_layout.store(state, std::memory_order_relaxed);
  }
  return state == 1 ? layout_of(L, idx)->proto : nullptr;
#endif
}

}  // namespace tide
