#include "runtime/coroutine.hpp"

#include "core/wait.hpp"
#include "runtime/signals.hpp"
#include "luabase/error.hpp"

namespace tide::runtime {

namespace {

// Makes `co` the signal target while it runs; restores the previous target.
class RunningCoroutine {
 public:
  RunningCoroutine(lua_State* from, lua_State* co) : ctx_(WaitContext::current()) {
    prev_ = ctx_.signal_target();
    // A hook already on the resumer (a cancel or Ctrl-C that arrived) goes
    // with the coroutine, so it stops there too.
    if (lua_Hook h = lua_gethook(from); h == cancel_hook || h == interrupt_hook)
      lua_sethook(co, h, lua_gethookmask(from), lua_gethookcount(from));
    ctx_.set_signal_target(co);
  }
  ~RunningCoroutine() { ctx_.set_signal_target(prev_); }

 private:
  WaitContext& ctx_;
  void* prev_;
};

// The error at the top of L came out of a coroutine: if it is the thread's
// cancellation or a Ctrl-C, it must go on unwinding. Raises then.
void reraise_if_stopping(lua_State* L) {
  if (WaitContext::current().cancel_requested() || is_error(L, -1, "Interrupted")) lua_error(L);
}

// Lua's auxresume: moves arguments in and results out; -1 on error (the
// error value on top of L).
int auxresume(lua_State* L, lua_State* co, int narg) {
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  lua_xmove(L, co, narg);
  int nres = 0;
  int status;
  {
    RunningCoroutine running(L, co);  // trivially unwinds: lua_resume never longjmps out
    status = lua_resume(co, L, narg, &nres);
  }
  // The coroutine may have been hooked mid-run; keep stopping out here.
  if (WaitContext::current().cancel_requested()) lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 1);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  return -1;
}

int tide_resume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  int r = auxresume(L, co, lua_gettop(L) - 1);
  if (r < 0) {
    reraise_if_stopping(L);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

int auxwrap(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  int r = auxresume(L, co, lua_gettop(L));
  if (r < 0) {
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) {  // the coroutine died: close it
#if LUA_VERSION_RELEASE_NUM >= 50406
      stat = lua_closethread(co, L);
#else
      stat = lua_resetthread(co);
#endif
      lua_xmove(co, L, 1);
    }
    if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  return r;
}

int tide_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, auxwrap, 1);
  return 1;
}

}  // namespace

void install_coroutine(lua_State* L) {
  if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
    lua_pushcfunction(L, tide_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, tide_wrap);
    lua_setfield(L, -2, "wrap");
  }
  lua_pop(L, 1);
}

}  // namespace tide::runtime
