#include "runtime/coroutine.hpp"

#include "core/wait.hpp"
#include "runtime/async_task.hpp"
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
  if (WaitContext::current().cancel_requested() || task_stopping(L) || is_error(L, -1, "Interrupted")) lua_error(L);
}

// Lua's auxresume: moves arguments in and results out; -1 on error (the
// error value on top of L). *pass_on is set when the coroutine yielded
// tide.async's marker and L itself can yield: the caller yields the results
// on (async_task.hpp).
int auxresume(lua_State* L, lua_State* co, int narg, bool* pass_on) {
  *pass_on = false;
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  lua_xmove(L, co, narg);
  int nres = 0;
  int status = resume_as_target(L, co, narg, &nres);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    *pass_on = status == LUA_YIELD && nres > 0 && lua_islightuserdata(L, -nres) &&
               lua_touserdata(L, -nres) == suspend_marker() && lua_isyieldable(L);
    return nres;
  }
  lua_xmove(co, L, 1);
  return -1;
}

// Leaves only the top n values above the first `keep` slots.
void keep_top(lua_State* L, int keep, int n) {
  int extra = lua_gettop(L) - n - keep;
  if (extra <= 0) return;
  lua_rotate(L, keep + 1, -extra);
  lua_pop(L, extra);
}

// coroutine.resume(co, ...) with co at index 1; also its continuation after
// passing an await on (the loop's values are then the arguments).
int resume_k(lua_State* L, int, lua_KContext);
int do_resume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  bool pass_on;
  int r = auxresume(L, co, lua_gettop(L) - 1, &pass_on);
  if (pass_on) {
    keep_top(L, 1, r);
    return lua_yieldk(L, r, 0, resume_k);
  }
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
int resume_k(lua_State* L, int, lua_KContext) { return do_resume(L); }

int tide_resume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  return do_resume(L);
}

int auxwrap_k(lua_State* L, int, lua_KContext);
int auxwrap(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  bool pass_on;
  int r = auxresume(L, co, lua_gettop(L), &pass_on);
  if (pass_on) {
    keep_top(L, 0, r);
    return lua_yieldk(L, r, 0, auxwrap_k);
  }
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
int auxwrap_k(lua_State* L, int, lua_KContext) { return auxwrap(L); }

int tide_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, auxwrap, 1);
  return 1;
}

}  // namespace

int resume_as_target(lua_State* from, lua_State* co, int narg, int* nres, bool hook_resumer) {
  int status;
  {
    RunningCoroutine running(from, co);  // trivially unwinds: lua_resume never longjmps out
    status = lua_resume(co, from, narg, nres);
  }
  // The coroutine may have been hooked mid-run; keep stopping out here.
  if (hook_resumer && WaitContext::current().cancel_requested()) lua_sethook(from, cancel_hook, LUA_MASKCOUNT, 1);
  return status;
}

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
