// tide.subprocess's arguments and options (API.md §10) into a SpawnSpec.
// Every mistake is an ArgumentError naming what is wrong; an unknown option
// key (a typo: {capture_output=true}) names the key and the accepted ones.
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "subprocess.hpp"
#include "support/args.hpp"
#include "luabase/error.hpp"

namespace tide::sub {
namespace {

using subprocess::StdioChoice;

constexpr int kArgs = 1, kOpts = 2;

const char* const kPopenKeys[] = {"cwd", "env", "env_add", "new_session", "shell", "stderr", "stdin", "stdout", nullptr};
const char* const kRunKeys[] = {"capture", "check",  "cwd",    "env",    "env_add", "input",   "new_session",
                                "shell",   "stderr", "stdin", "stdout", "timeout", nullptr};
const char* const kCheckOutputKeys[] = {"cwd",   "env",    "env_add", "input",   "new_session",
                                        "shell", "stderr", "stdin",   "timeout", nullptr};

const char* const* keys_of(Caller c) {
  switch (c) {
    case Caller::Popen: return kPopenKeys;
    case Caller::Run: return kRunKeys;
    case Caller::CheckOutput: return kCheckOutputKeys;
  }
  return kPopenKeys;
}

[[noreturn]] void option_error(lua_State* L, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char* msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  arg_error(L, kOpts, msg);
}

// One mechanism for every options table (support/args.hpp).
void check_keys(lua_State* L, Caller caller) { check_options(L, kOpts, keys_of(caller)); }

// The option's value pushed (raw: an options table's metatable is not
// consulted); its Lua type returned.
int field(lua_State* L, const char* name) {
  lua_pushstring(L, name);
  return lua_rawget(L, kOpts);
}

bool bool_option(lua_State* L, const char* name) {
  int t = field(L, name);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN) option_error(L, "option '%s' must be a boolean, got %s", name, type_of(L, -1));
  bool v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

// The string at idx, which must have no zero byte (C would cut it short
// there): raises ArgumentError for argument `arg` naming `what` (a format
// with one integer, `n`).
std::string clean_string(lua_State* L, int idx, int arg, const char* what, int n = 0) {
  size_t len;
  const char* s = lua_tolstring(L, idx, &len);
  if (std::memchr(s, '\0', len)) {
    const char* name = lua_pushfstring(L, what, n);
    arg_error(L, arg, lua_pushfstring(L, "%s contains a zero byte", name));
  }
  return std::string(s, len);
}

void parse_args(lua_State* L, std::vector<std::string>& argv, bool shell) {
  int t = lua_type(L, kArgs);
  if (t == LUA_TSTRING) {
    if (!shell) arg_error(L, kArgs, "a command string needs shell=true (or give an array of strings)");
    argv.push_back("/bin/sh");
    argv.push_back("-c");
    argv.push_back(clean_string(L, kArgs, kArgs, "the command"));
    return;
  }
  if (t != LUA_TTABLE) arg_error(L, kArgs, lua_pushfstring(L, "an array of strings expected, got %s", type_of(L, kArgs)));
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, kArgs));
  if (n == 0) arg_error(L, kArgs, "args is empty: no command to run");
  if (shell) {
    argv.push_back("/bin/sh");
    argv.push_back("-c");
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, kArgs, i) != LUA_TSTRING)
      arg_error(L, kArgs, lua_pushfstring(L, "args[%d] must be a string, got %s", static_cast<int>(i), type_of(L, -1)));
    argv.push_back(clean_string(L, -1, kArgs, "args[%d]", static_cast<int>(i)));
    lua_pop(L, 1);
  }
}

// env / env_add: {NAME = value}, value a string or a number, into `vars`
// (which the Job owns). False when the option is absent.
bool env_option(lua_State* L, const char* name, std::vector<std::pair<std::string, std::string>>& vars) {
  int t = field(L, name);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return false;
  }
  if (t != LUA_TTABLE) option_error(L, "option '%s' must be a table of strings, got %s", name, type_of(L, -1));
  int tbl = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, tbl)) {
    if (lua_type(L, -2) != LUA_TSTRING) option_error(L, "%s: variable names are strings, got a %s", name, luaL_typename(L, -2));
    size_t klen;
    const char* k = lua_tolstring(L, -2, &klen);
    if (klen == 0 || std::memchr(k, '=', klen) || std::memchr(k, '\0', klen))
      option_error(L, "%s: illegal variable name '%s' (empty, or has '=' or a zero byte)", name, k);
    int vt = lua_type(L, -1);
    if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
      option_error(L, "%s.%s must be a string, got %s", name, k, type_of(L, -1));
    lua_pushvalue(L, -1);  // tolstring on a copy: a number key must not change under lua_next
    size_t vlen;
    const char* v = lua_tolstring(L, -1, &vlen);
    if (std::memchr(v, '\0', vlen)) option_error(L, "%s.%s contains a zero byte", name, k);
    vars.emplace_back(std::string(k, klen), std::string(v, vlen));
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return true;
}


StdioChoice stream_option(lua_State* L, int which, Job* job) {
  const char* name = kStdioNames[which];
  StdioChoice c;
  int t = field(L, name);
  int idx = lua_gettop(L);
  if (t == LUA_TNIL) {
  } else if (t == LUA_TSTRING) {
    std::string_view s = lua_tostring(L, idx);
    if (s == "pipe")
      c.kind = StdioChoice::Pipe;
    else if (s == "inherit")
      c.kind = StdioChoice::Inherit;
    else if (s == "null")
      c.kind = StdioChoice::Null;
    else if (s == "stdout" && which == 2)
      c.kind = StdioChoice::Stdout;
    else
      option_error(L, "option '%s' must be \"pipe\", \"inherit\", \"null\"%s, a descriptor, a stream or a file; got \"%s\"",
                   name, which == 2 ? ", \"stdout\"" : "", lua_tostring(L, idx));
  } else if (t == LUA_TNUMBER) {
    lua_Integer fd;
    if (!lua_isinteger(L, idx) || (fd = lua_tointeger(L, idx)) < 0 || fd > 0x7fffffff)
      option_error(L, "option '%s': a file descriptor is a non-negative integer", name);
    c.kind = StdioChoice::Fd;
    c.fd = static_cast<int>(fd);
  } else if (subprocess::Stream* s = test_stream(L, idx)) {
    if (s->closed()) option_error(L, "option '%s': the stream (%s) is closed", name, s->name());
    c.kind = StdioChoice::Fd;
    c.fd = s->fd();
    c.make_blocking = true;
    job->close_after[which] = s;
  } else if (auto* f = static_cast<luaL_Stream*>(luaL_testudata(L, idx, LUA_FILEHANDLE))) {
    if (!f->closef) option_error(L, "option '%s': the file is closed", name);
    std::fflush(f->f);  // what Lua buffered goes first
    c.kind = StdioChoice::Fd;
    c.fd = fileno(f->f);
  } else {
    option_error(L, "option '%s' must be a string, a descriptor, a stream or a file, got %s", name, type_of(L, idx));
  }
  lua_settop(L, idx - 1);
  return c;
}

}  // namespace

double check_seconds(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) return -1;
  if (lua_type(L, arg) != LUA_TNUMBER) type_error(L, arg, "number");
  double s = lua_tonumber(L, arg);
  if (std::isnan(s) || s < 0) arg_error(L, arg, "timeout must be a non-negative number");
  return s;
}

void normalize_call(lua_State* L) {
  int ot = lua_type(L, kOpts);
  if (ot == LUA_TNONE || ot == LUA_TNIL) {
    lua_settop(L, 1);
    lua_newtable(L);  // no options: an empty table from here on
  } else if (ot != LUA_TTABLE) {
    arg_error(L, kOpts, lua_pushfstring(L, "options table expected, got %s", type_of(L, kOpts)));
  }
  lua_settop(L, 2);
}

void parse_call(lua_State* L, Job* job, Caller caller, RunOptions& run) {
  int top = lua_gettop(L);
  check_keys(L, caller);
  subprocess::SpawnSpec& spec = job->spec;
  bool shell = bool_option(L, "shell");
  parse_args(L, spec.argv, shell);
  spec.new_session = bool_option(L, "new_session");
  for (int i = 0; i < 3; ++i) spec.stdio[i] = stream_option(L, i, job);
  if (field(L, "cwd") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) option_error(L, "option 'cwd' must be a string, got %s", type_of(L, -1));
    spec.cwd = clean_string(L, -1, kOpts, "option 'cwd'");
    if (spec.cwd.empty()) option_error(L, "option 'cwd' is empty");
  }
  lua_pop(L, 1);
  // Nothing below raises until the environment is built.
  bool replace = env_option(L, "env", job->env);
  bool add = env_option(L, "env_add", job->env_add);
  if (replace) {
    spec.env.emplace();
    subprocess::apply_environment(*spec.env, job->env);
  }
  if (add) {
    if (!spec.env) spec.env = subprocess::current_environment();
    subprocess::apply_environment(*spec.env, job->env_add);
  }
  for (int i = 0; i < 3; ++i) job->piped[i] = spec.stdio[i].kind == StdioChoice::Pipe;
  if (caller == Caller::Popen) return;

  if (bool_option(L, "capture")) {
    if (spec.stdio[1].kind != StdioChoice::Inherit || spec.stdio[2].kind != StdioChoice::Inherit ||
        job->close_after[1] || job->close_after[2])
      option_error(L, "capture=true cannot be combined with stdout or stderr");
    spec.stdio[1].kind = spec.stdio[2].kind = StdioChoice::Pipe;
  }
  if (caller == Caller::CheckOutput) {
    spec.stdio[1].kind = StdioChoice::Pipe;
    run.check = true;
  } else {
    run.check = bool_option(L, "check");
  }
  int it = field(L, "input");
  if (it != LUA_TNIL) {
    if (it != LUA_TSTRING) option_error(L, "option 'input' must be a string, got %s", type_of(L, -1));
    if (field(L, "stdin") != LUA_TNIL) option_error(L, "input cannot be combined with stdin");
    lua_pop(L, 1);
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    job->x.input.assign(s, len);
    run.has_input = true;
    spec.stdio[0].kind = StdioChoice::Pipe;
  }
  lua_pop(L, 1);
  int tt = field(L, "timeout");
  if (tt != LUA_TNIL) {
    double t = lua_tonumber(L, -1);
    if (tt != LUA_TNUMBER || std::isnan(t) || t < 0)
      option_error(L, "option 'timeout' must be a non-negative number, got %s",
                   tt == LUA_TNUMBER ? lua_tostring(L, -1) : type_of(L, -1));
    run.timeout = t;
  }
  lua_settop(L, top);
  for (int i = 0; i < 3; ++i) job->piped[i] = spec.stdio[i].kind == StdioChoice::Pipe;
}

}  // namespace tide::sub
