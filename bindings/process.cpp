// tide.process (API.md §7): Process objects over host/process, start
// methods, and the current/parent process.
//
// A target is a function, or an object with a `run` method (found through
// its metatable too, so a "class" works): Process{target = obj} runs
// obj:run(args...) in the child. The object is copied like any argument,
// and its metatable travels with it (restored in the child before run), so
// run can call other methods on self.
#include <signal.h>
#include <unistd.h>

#include <string>

#include "codec/codec.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "worker_fields.hpp"
#include "process/child.hpp"
#include "process/forkserver.hpp"
#include "process/process.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"

namespace tide {
namespace {

using process::Process;
using process::StartMethod;

constexpr const char* kModule = "tide.process";

Process* self(lua_State* L) { return check_object<Process>(L, 1); }

std::string who(Process* p) { return "process '" + p->name() + "'"; }

StartMethod check_method(lua_State* L, int arg, const char* what) {
  StartMethod m;
  const char* s = lua_tostring(L, arg);
  if (lua_type(L, arg) != LUA_TSTRING || !process::method_from_name(s, m))
    arg_error(L, arg == -1 ? 1 : arg,
              lua_pushfstring(L, "%s must be 'fork', 'spawn' or 'forkserver', got %s", what,
                              lua_type(L, arg) == LUA_TSTRING ? s : luaL_typename(L, arg)));
  return m;
}

// Replaces the object at `idx` with a function calling obj:run(...) with
// obj's metatable restored first. Raises ArgumentError if it has no run.
void bind_run_method(lua_State* L, int idx, int arg) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t != LUA_TTABLE) {
    arg_error(L, arg, lua_pushfstring(L, "field 'target' must be a function or an object with a run method, got %s",
                                      luaL_typename(L, idx)));
  }
  lua_getfield(L, idx, "run");
  if (lua_type(L, -1) != LUA_TFUNCTION) arg_error(L, arg, "field 'target' has no run method");
  int run = lua_gettop(L);
  static const char kBinder[] =
      "local obj, mt, run = ...\n"
      "return function(...)\n"
      "  if mt then setmetatable(obj, mt) end\n"
      "  return run(obj, ...)\n"
      "end\n";
  if (luaL_loadbuffer(L, kBinder, sizeof kBinder - 1, "=tide.process") != LUA_OK) lua_error(L);
  lua_pushvalue(L, idx);
  if (!lua_getmetatable(L, idx)) lua_pushnil(L);
  lua_pushvalue(L, run);
  lua_call(L, 3, 1);
  lua_replace(L, idx);
  lua_settop(L, run - 1);
}

// `name` with a null data() means "make one up".
int push_new_process(lua_State* L, int first, int n, std::string_view name, bool daemon, StartMethod m,
                     bool start) {
  return protect(L, [&] {
    Message payload;
    codec::encode(L, first, n, payload, {"argument", 0});
    auto p = Ref<Process>::adopt(new Process(std::move(payload), name.data() ? std::string(name) : Process::next_name(),
                                             daemon, m));
    if (start) p->start();
    push_handle(L, p.get());
    return 1;
  });
}

// process.spawn(fn, ...) -> a started Process (default start method).
int l_spawn(lua_State* L) {
  if (lua_type(L, 1) != LUA_TFUNCTION) bind_run_method(L, 1, 1);
  return push_new_process(L, 1, lua_gettop(L), {}, false, process::default_method(), true);
}

const char* const kProcessOptions[] = {"target", "args", "name", "daemon", "start_method", nullptr};

// Process{target=fn, args={...}, name=?, daemon=?, start_method=?}
int l_Process(lua_State* L) {
  check_table(L, 1);
  check_options(L, 1, kProcessOptions);
  lua_settop(L, 1);
  int fn = 2;
  int tt = lua_getfield(L, 1, "target");
  if (tt == LUA_TNIL) arg_error(L, 1, "field 'target' is required");
  if (tt != LUA_TFUNCTION) bind_run_method(L, fn, 1);
  int nargs = push_args_field(L, 1, "args");
  // Options go below the call values so those stay contiguous.
  int nt = lua_getfield(L, 1, "name");
  if (nt != LUA_TNIL && nt != LUA_TSTRING)
    arg_error(L, 1, lua_pushfstring(L, "field 'name' must be a string, got %s", type_of(L, -1)));
  size_t name_len = 0;
  const char* name_s = lua_tolstring(L, -1, &name_len);
  std::string_view name = name_s ? std::string_view(name_s, name_len) : std::string_view();
  lua_insert(L, fn);  // keeps the name alive below the call values
  int dt = lua_getfield(L, 1, "daemon");
  if (dt != LUA_TNIL && dt != LUA_TBOOLEAN)
    arg_error(L, 1, lua_pushfstring(L, "field 'daemon' must be a boolean, got %s", type_of(L, -1)));
  bool daemon = lua_toboolean(L, -1);
  lua_pop(L, 1);
  StartMethod m = process::default_method();
  if (lua_getfield(L, 1, "start_method") != LUA_TNIL) m = check_method(L, lua_gettop(L), "field 'start_method'");
  lua_pop(L, 1);
  return push_new_process(L, fn + 1, nargs + 1, name, daemon, m, false);
}

int m_start(lua_State* L) {
  Process* p = self(L);
  return protect(L, [&] {
    p->start();
    return 0;
  });
}

int m_join(lua_State* L) {
  runtime::run_due_callbacks(L);
  Process* p = self(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    if (!p->started()) throw Error(ErrorKind::InvalidState, "cannot join " + who(p) + " before it is started");
    if (!p->wait(d)) throw Error(ErrorKind::Timeout, "join of " + who(p) + " timed out");
    Outcome o = p->outcome();
    return push_outcome(L, o, who(p));
  });
}

int m_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Process* p = self(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    lua_pushboolean(L, p->wait(d));
    return 1;
  });
}

int m_is_alive(lua_State* L) {
  Process* p = self(L);
  return protect(L, [&] {
    lua_pushboolean(L, p->is_alive());
    return 1;
  });
}

int signal_method(lua_State* L, int sig) {
  Process* p = self(L);
  return protect(L, [&] {
    p->send_signal(sig);
    return 0;
  });
}

int m_terminate(lua_State* L) { return signal_method(L, SIGTERM); }
int m_kill(lua_State* L) { return signal_method(L, SIGKILL); }

int m_close(lua_State* L) {
  Handle* h = check_handle(L, 1, Process::kTypeName);
  if (!h->obj) return 0;  // closing twice is fine
  auto* p = static_cast<Process*>(h->obj);
  return protect(L, [&] {
    p->close();
    release_handle(h);
    return 0;
  });
}

// Scope exit: a child still running is terminated, then reaped; the handle
// is released. (join inside the scope to wait for the result instead.)
int process_close(lua_State* L) {
  Handle* h = check_handle(L, 1, Process::kTypeName);
  if (!h->obj) return 0;
  auto* p = static_cast<Process*>(h->obj);
  return protect(L, [&] {
    if (p->started() && p->is_alive()) {
      p->send_signal(SIGTERM);
      p->wait(Deadline::never());
    }
    p->close();
    release_handle(h);
    return 0;
  });
}

int getter(lua_State* L) {
  Process* p = self(L);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  std::string_view k(key);
  return protect(L, [&] {
    if (k == "name") {
      std::string n = p->name();
      lua_pushlstring(L, n.data(), n.size());
    } else if (k == "pid" || k == "ident") {
      pid_t pid = p->pid();
      if (pid == 0) return 0;
      lua_pushinteger(L, pid);
    } else if (k == "exitcode") {
      auto code = p->exitcode();
      if (!code) return 0;
      lua_pushinteger(L, *code);
    } else if (k == "daemon") {
      lua_pushboolean(L, p->daemon());
    } else if (k == "start_method") {
      lua_pushstring(L, process::method_name(p->method()));
    } else {
      return 0;
    }
    return 1;
  });
}

int process_newindex(lua_State* L) { return set_worker_field(L, self(L), "Process"); }

int process_tostring(lua_State* L) {
  Handle* h = check_handle(L, 1, Process::kTypeName);
  if (!h->obj) {
    lua_pushstring(L, "Process (closed)");
    return 1;
  }
  auto* p = static_cast<Process*>(h->obj);
  return protect(L, [&] {
    std::string name = p->name();
    std::string state = !p->started() ? "initial" : p->is_alive() ? "started" : "stopped";
    if (auto code = p->exitcode()) state += " exitcode=" + std::to_string(*code);
    lua_pushfstring(L, "Process '%s' (%s)", name.c_str(), state.c_str());
    return 1;
  });
}

int process_eq(lua_State* L) {
  auto* a = static_cast<Handle*>(luaL_testudata(L, 1, Process::kTypeName));
  auto* b = static_cast<Handle*>(luaL_testudata(L, 2, Process::kTypeName));
  lua_pushboolean(L, a && b && a->obj == b->obj);
  return 1;
}

int l_current(lua_State* L) {
  return protect(L, [&] {
    std::string name = process::current_name();
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, name.data(), name.size());
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, getpid());
    lua_setfield(L, -2, "pid");
    return 1;
  });
}

// The process that started this one ({pid = ...}), nil in a process tide
// did not start.
int l_parent(lua_State* L) {
  pid_t ppid = process::parent_pid();
  if (ppid == 0) return 0;
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, ppid);
  lua_setfield(L, -2, "pid");
  return 1;
}

int l_active_children(lua_State* L) {
  return protect(L, [&] {
    auto kids = Process::active_children();
    lua_createtable(L, static_cast<int>(kids.size()), 0);
    int i = 0;
    for (auto& p : kids) {
      push_handle(L, p.get());
      lua_rawseti(L, -2, ++i);
    }
    return 1;
  });
}

int l_cpu_count(lua_State* L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

int l_set_start_method(lua_State* L) {
  process::set_default_method(check_method(L, 1, "start method"));
  return 0;
}

int l_get_start_method(lua_State* L) {
  lua_pushstring(L, process::method_name(process::default_method()));
  return 1;
}

int l_get_all_start_methods(lua_State* L) {
  lua_createtable(L, 3, 0);
  int i = 0;
  for (StartMethod m : {StartMethod::Fork, StartMethod::Spawn, StartMethod::ForkServer}) {
    lua_pushstring(L, process::method_name(m));
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

// Internal, for the authentication spec: sends a forkserver request signed
// with `key` and returns "accepted" or "refused".
int l_forkserver_probe(lua_State* L) {
  size_t n;
  const char* key = check_string(L, 1, &n);
  return protect(L, [&] {
    int answer = process::forkserver::probe(std::string(key, n));
    lua_pushstring(L, answer >= 0 ? "accepted" : answer == -EACCES ? "refused" : "failed");
    return 1;
  });
}

const luaL_Reg kMethods[] = {{"start", m_start},         {"join", m_join}, {"wait", m_wait},
                             {"is_alive", m_is_alive},   {"terminate", m_terminate},
                             {"kill", m_kill},           {"close", m_close}, {nullptr, nullptr}};

const luaL_Reg kMeta[] = {{"__newindex", process_newindex}, {"__tostring", process_tostring},
                          {"__eq", process_eq},             {"__close", process_close}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"Process", l_Process},
                               {"spawn", l_spawn},
                               {"current", l_current},
                               {"parent", l_parent},
                               {"active_children", l_active_children},
                               {"cpu_count", l_cpu_count},
                               {"set_start_method", l_set_start_method},
                               {"get_start_method", l_get_start_method},
                               {"get_all_start_methods", l_get_all_start_methods},
                               {"_forkserver_probe", l_forkserver_probe},
                               {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(Process::kTypeName, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_process(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  define_class(L, ClassSpec{Process::kTypeName, kMethods, getter, kMeta}, kModule);
  luaL_newlib(L, kFunctions);
  return 1;
}
