// tide.subprocess (API.md §10): run, Popen, check_output over
// host/subprocess (posix_spawn, pidfd waits, pipes).
//
// A Popen is local to the Lua state that made it (it is not a shared
// object and does not cross to other threads); any thread or pool worker
// can make its own. Its waits (wait, communicate, stream reads and writes)
// go through the one wait path, so they are cancellable and Ctrl-C
// interrupts them. run() kills and reaps its child on every way out that is
// not the child's own end: a timeout, Ctrl-C, a cancelled thread, a
// raising signal handler. A to-be-closed Popen (`local p <close> =`) does
// the same when its scope is left by an error, and otherwise closes its
// streams and waits for the child (Python's `with Popen(...)`).
#include <new>
#include <string_view>

#include "core/signal_names.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "runtime/state.hpp"
#include "subprocess.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"

namespace tide::sub {

using subprocess::Stream;

Job* check_job(lua_State* L, int idx) {
  auto* box = static_cast<Box<Job>*>(luaL_testudata(L, idx, kPopenMeta));
  if (!box) type_error(L, idx, kPopenMeta);
  if (!box->alive) raise_error(L, ErrorKind::InvalidState, "%s is released", kPopenMeta);
  return box->get();
}

Job* check_popen(lua_State* L) {
  Job* job = check_job(L, 1);
  if (!job->child) raise_error(L, ErrorKind::InvalidState, "this Popen never started");
  return job;
}

// The Popen's stream in slot 1..3, or nullptr.
Stream* stream_of(lua_State* L, int popen, int slot) {
  lua_getiuservalue(L, popen, slot);
  Stream* s = test_stream(L, -1);
  lua_pop(L, 1);  // the Popen's uservalue keeps it alive
  return s;
}

Deadline deadline_of(double seconds) { return seconds < 0 ? Deadline::never() : Deadline::after(seconds); }

// Appends the command (the args as given) for messages: the string, or
// the array's items separated by spaces.
void push_command_text(lua_State* L, int popen) {
  lua_getiuservalue(L, popen, kArgsSlot);
  if (lua_type(L, -1) == LUA_TTABLE) {
    luaL_Buffer b;
    int args = lua_gettop(L);
    luaL_buffinit(L, &b);
    lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, args));
    for (lua_Integer i = 1; i <= n; ++i) {
      if (i > 1) luaL_addchar(&b, ' ');
      lua_rawgeti(L, args, i);
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_remove(L, args);
  }
}

// Sets error fields stdout and stderr from what was read (nil for a stream
// that is not piped), and cmd (the args as given).
void set_output_fields(lua_State* L, int popen, Job* job) {
  if (job->piped[1]) {
    lua_pushlstring(L, job->x.out.data(), job->x.out.size());
    lua_setfield(L, -2, "stdout");
  }
  if (job->piped[2]) {
    lua_pushlstring(L, job->x.err.data(), job->x.err.size());
    lua_setfield(L, -2, "stderr");
  }
  lua_getiuservalue(L, popen, kArgsSlot);
  lua_setfield(L, -2, "cmd");
}

// Raises Timeout; with_output: carrying the output read so far (run,
// communicate), else only cmd and timeout (wait).
[[noreturn]] void raise_timeout(lua_State* L, int popen, Job* job, double seconds, bool with_output) {
  push_command_text(L, popen);
  lua_pushnumber(L, seconds);
  lua_pushfstring(L, "command '%s' timed out after %s seconds", lua_tostring(L, -2), lua_tostring(L, -1));
  push_error(L, ErrorKind::Timeout, lua_tostring(L, -1));
  if (with_output) {
    set_output_fields(L, popen, job);
  } else {
    lua_getiuservalue(L, popen, kArgsSlot);
    lua_setfield(L, -2, "cmd");
  }
  lua_pushnumber(L, seconds);
  lua_setfield(L, -2, "timeout");
  lua_error(L);
  __builtin_unreachable();
}

[[noreturn]] void raise_called_process_error(lua_State* L, int popen, Job* job, int code) {
  push_command_text(L, popen);
  const char* sig = code < 0 ? signal_name_or_null(-code) : nullptr;
  if (sig)
    lua_pushfstring(L, "command '%s' died with %s", lua_tostring(L, -1), sig);
  else if (code < 0)
    lua_pushfstring(L, "command '%s' died with signal %d", lua_tostring(L, -1), -code);
  else
    lua_pushfstring(L, "command '%s' returned non-zero exit status %d", lua_tostring(L, -1), code);
  push_error(L, ErrorKind::CalledProcessError, lua_tostring(L, -1));
  set_output_fields(L, popen, job);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "returncode");
  lua_error(L);
  __builtin_unreachable();
}

namespace {

// Popen(args, opts) at 1, 2: parses, starts the child, and leaves the
// Popen userdata at 3. The streams exist (closed) before the child does,
// so nothing after posix_spawn can raise a Lua error and lose it.
Job* new_popen(lua_State* L, Caller caller, RunOptions& run) {
  normalize_call(L);
  auto* box = static_cast<Box<Job>*>(lua_newuserdatauv(L, sizeof(Box<Job>), kPopenSlots));
  box->alive = false;
  Job* job = new (box->mem) Job{};
  box->alive = true;
  luaL_setmetatable(L, kPopenMeta);  // from here on __gc destroys the Job
  const int ud = 3;
  parse_call(L, job, caller, run);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, ud, kArgsSlot);
  Stream* streams[3] = {nullptr, nullptr, nullptr};
  for (int i = 0; i < 3; ++i) {
    if (!job->piped[i]) continue;
    streams[i] = push_stream(L, kStdioNames[i], i == 0);
    lua_setiuservalue(L, ud, kStdinSlot + i);
  }
  protect(L, [&] {
    subprocess::Spawned sp = subprocess::spawn(job->spec);
    job->child = std::move(sp.child);
    for (int i = 0; i < 3; ++i) {
      if (streams[i]) streams[i]->attach(std::move(sp.pipes[i]));
      if (job->close_after[i]) job->close_after[i]->close();  // the next command has it now
      job->close_after[i] = nullptr;
    }
    job->spec = {};
    job->env.clear();
    job->env_add.clear();
    return 0;
  });
  lua_settop(L, ud);
  return job;
}

int l_Popen(lua_State* L) {
  RunOptions run;
  new_popen(L, Caller::Popen, run);
  return 1;
}

// run and check_output: the whole exchange inside one protect, with the
// child killed and reaped on any way out but its own end.
struct RunResult {
  bool timed_out = false;
  int code = 0;
};

RunResult drive(lua_State* L, Job* job, const RunOptions& run) {
  Stream* in = stream_of(L, 3, kStdinSlot);
  Stream* out = stream_of(L, 3, kStdoutSlot);
  Stream* err = stream_of(L, 3, kStderrSlot);
  RunResult r;
  protect(L, [&] {
    struct KillOnUnwind {
      subprocess::Child* child;
      bool armed = true;
      ~KillOnUnwind() {
        if (armed) child->kill_and_reap();
      }
    } guard{job->child.get()};
    Deadline d = deadline_of(run.timeout);
    bool done = subprocess::exchange(in, out, err, job->x, d);
    std::optional<int> code = done ? job->child->wait(d) : std::nullopt;
    guard.armed = false;
    if (!code) {
      job->child->kill_and_reap();
      // What it wrote before it died is in the pipes: take it, without
      // waiting for a grandchild that may still hold them open.
      subprocess::exchange(nullptr, out, err, job->x, Deadline::after(0));
      r.timed_out = true;
    } else {
      r.code = *code;
    }
    for (Stream* s : {in, out, err})
      if (s) s->close();
    return 0;
  });
  return r;
}

int l_run(lua_State* L) {
  runtime::run_due_callbacks(L);
  RunOptions run;
  Job* job = new_popen(L, Caller::Run, run);
  RunResult r = drive(L, job, run);
  if (r.timed_out) raise_timeout(L, 3, job, run.timeout);
  if (run.check && r.code != 0) raise_called_process_error(L, 3, job, r.code);
  lua_createtable(L, 0, 4);
  lua_getiuservalue(L, 3, kArgsSlot);
  lua_setfield(L, -2, "args");
  lua_pushinteger(L, r.code);
  lua_setfield(L, -2, "returncode");
  if (job->piped[1]) {
    lua_pushlstring(L, job->x.out.data(), job->x.out.size());
    lua_setfield(L, -2, "stdout");
  }
  if (job->piped[2]) {
    lua_pushlstring(L, job->x.err.data(), job->x.err.size());
    lua_setfield(L, -2, "stderr");
  }
  return 1;
}

int l_check_output(lua_State* L) {
  runtime::run_due_callbacks(L);
  RunOptions run;
  Job* job = new_popen(L, Caller::CheckOutput, run);
  RunResult r = drive(L, job, run);
  if (r.timed_out) raise_timeout(L, 3, job, run.timeout);
  if (r.code != 0) raise_called_process_error(L, 3, job, r.code);
  lua_pushlstring(L, job->x.out.data(), job->x.out.size());
  return 1;
}

const luaL_Reg kFunctions[] = {
    {"run", l_run}, {"Popen", l_Popen}, {"check_output", l_check_output}, {nullptr, nullptr}};

}  // namespace
}  // namespace tide::sub

extern "C" int luaopen_tide_subprocess(lua_State* L) {
  using namespace tide::sub;
  tide::runtime::install(L);
  open_stream_class(L);
  open_popen_class(L);
  luaL_newlib(L, kFunctions);
  // Python's names for the stream choices, for ports.
  const char* const constants[][2] = {{"PIPE", "pipe"}, {"DEVNULL", "null"}, {"STDOUT", "stdout"}, {"INHERIT", "inherit"}};
  for (const auto& c : constants) {
    lua_pushstring(L, c[1]);
    lua_setfield(L, -2, c[0]);
  }
  return 1;
}
