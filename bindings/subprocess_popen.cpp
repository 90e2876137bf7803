// tide.subprocess's Popen: its methods (communicate, wait, poll,
// send_signal, terminate, kill), fields (pid, returncode, args, stdin,
// stdout, stderr) and metamethods (__close, __gc, __tostring).
#include <string_view>

#include "runtime/done_callbacks.hpp"
#include "subprocess.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"

namespace tide::sub {
namespace {

using subprocess::Stream;

int push_code(lua_State* L, const std::optional<int>& code) {
  if (code)
    lua_pushinteger(L, *code);
  else
    lua_pushnil(L);
  return 1;
}

int m_poll(lua_State* L) {
  Job* job = check_popen(L);
  return protect(L, [&] { return push_code(L, job->child->poll()); });
}

int m_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Job* job = check_popen(L);
  double seconds = check_seconds(L, 2);
  bool timed_out = false;
  int n = protect(L, [&] {
    std::optional<int> code = job->child->wait(deadline_of(seconds));
    if (!code) {
      timed_out = true;
      return 0;
    }
    return push_code(L, code);
  });
  if (timed_out) {
    lua_settop(L, 1);
    raise_timeout(L, 1, job, seconds, false);
  }
  return n;
}

// communicate([input], [timeout]) -> stdout, stderr (nil for streams that
// are not piped). A Timeout carries the output so far; a later call goes
// on and returns all of it.
int m_communicate(lua_State* L) {
  runtime::run_due_callbacks(L);
  Job* job = check_popen(L);
  Stream* in = stream_of(L, 1, kStdinSlot);
  Stream* out = stream_of(L, 1, kStdoutSlot);
  Stream* err = stream_of(L, 1, kStderrSlot);
  if (!lua_isnoneornil(L, 2)) {
    size_t len;
    const char* s = check_string(L, 2, &len);
    if (!in) raise_error(L, ErrorKind::InvalidState, "communicate: input given, but stdin is not a pipe");
    if (in->closed() && !job->x.started) raise_error(L, ErrorKind::InvalidState, "communicate: input given, but stdin is closed");
    if (job->x.started) raise_error(L, ErrorKind::InvalidState, "communicate: input given after communication started");
    job->x.input.assign(s, len);
  }
  double seconds = check_seconds(L, 3);
  lua_settop(L, 1);
  bool timed_out = false;
  protect(L, [&] {
    Deadline d = deadline_of(seconds);
    timed_out = !subprocess::exchange(in, out, err, job->x, d) || !job->child->wait(d);
    return 0;
  });
  if (timed_out) raise_timeout(L, 1, job, seconds);
  for (int i = 1; i <= 2; ++i) {
    const std::string& s = i == 1 ? job->x.out : job->x.err;
    if (job->piped[i])
      lua_pushlstring(L, s.data(), s.size());
    else
      lua_pushnil(L);
  }
  return 2;
}

int m_send_signal(lua_State* L) {
  Job* job = check_popen(L);
  int sig = check_signal(L, 2);
  return protect(L, [&] {
    job->child->send_signal(sig);
    return 0;
  });
}

int signal_with(lua_State* L, int sig) {
  Job* job = check_popen(L);
  return protect(L, [&] {
    job->child->send_signal(sig);
    return 0;
  });
}

int m_terminate(lua_State* L) { return signal_with(L, SIGTERM); }
int m_kill(lua_State* L) { return signal_with(L, SIGKILL); }

// <close>: streams closed; then, leaving by an error, the child (and its
// group with new_session) is killed and reaped; leaving normally, waited for.
int popen_close(lua_State* L) {
  Job* job = check_job(L, 1);
  if (!job->child) return 0;
  bool failing = !lua_isnoneornil(L, 2);
  for (int slot : {kStdoutSlot, kStderrSlot, kStdinSlot})
    if (Stream* s = stream_of(L, 1, slot)) s->close();
  if (!failing) runtime::run_due_callbacks(L);
  return protect(L, [&] {
    if (failing)
      job->child->kill_and_reap();
    else
      job->child->wait(Deadline::never());
    return 0;
  });
}

int popen_gc(lua_State* L) {
  auto* box = static_cast<Box<Job>*>(luaL_testudata(L, 1, kPopenMeta));
  if (!box) type_error(L, 1, kPopenMeta);
  box->destroy();
  return 0;
}

// Methods and the uservalue fields are found on a released Popen too;
// pid and returncode need it alive.
int popen_index(lua_State* L) {
  if (!luaL_testudata(L, 1, kPopenMeta)) type_error(L, 1, kPopenMeta);
  size_t len = 0;
  const char* k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : "";
  std::string_view key(k, len);
  if (key == "pid") {
    Job* job = check_job(L, 1);
    if (!job->child) return 0;
    lua_pushinteger(L, job->child->pid());
    return 1;
  }
  if (key == "returncode") {
    Job* job = check_job(L, 1);
    return job->child ? push_code(L, job->child->returncode()) : 0;
  }
  if (key == "stdin" || key == "stdout" || key == "stderr") {
    lua_getiuservalue(L, 1, key == "stdin" ? kStdinSlot : key == "stdout" ? kStdoutSlot : kStderrSlot);
    return 1;
  }
  if (key == "args") {
    lua_getiuservalue(L, 1, kArgsSlot);
    return 1;
  }
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "methods");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int popen_tostring(lua_State* L) {
  Job* job = check_job(L, 1);
  if (!job->child) {
    lua_pushliteral(L, "tide.Popen (not started)");
    return 1;
  }
  push_command_text(L, 1);
  auto code = job->child->returncode();
  if (code)
    lua_pushfstring(L, "tide.Popen (pid %d, '%s', returncode %d)", static_cast<int>(job->child->pid()),
                    lua_tostring(L, -1), *code);
  else
    lua_pushfstring(L, "tide.Popen (pid %d, '%s', running)", static_cast<int>(job->child->pid()), lua_tostring(L, -1));
  return 1;
}

const luaL_Reg kPopenMethods[] = {{"poll", m_poll},
                                  {"wait", m_wait},
                                  {"communicate", m_communicate},
                                  {"send_signal", m_send_signal},
                                  {"terminate", m_terminate},
                                  {"kill", m_kill},
                                  {nullptr, nullptr}};

}  // namespace

void open_popen_class(lua_State* L) {
  if (luaL_newmetatable(L, kPopenMeta)) {
    luaL_newlib(L, kPopenMethods);
    lua_setfield(L, -2, "methods");
    const luaL_Reg meta[] = {{"__index", popen_index},
                             {"__tostring", popen_tostring},
                             {"__close", popen_close},
                             {"__gc", popen_gc},
                             {nullptr, nullptr}};
    luaL_setfuncs(L, meta, 0);
  }
  lua_pop(L, 1);
}


}  // namespace tide::sub
