// The `tide` command (API.md §14): runs a script, -e code, -l modules, or a
// REPL, in a main state where tide is preloaded; joins threads at exit.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/malloc_tuning.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "modules.hpp"
#include "process/launch.hpp"
#include "process/worker.hpp"
#include "thread/host_exit.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "runtime/child_main.hpp"
#include "runtime/repl.hpp"
#include "luabase/error.hpp"
#include "cluster/worker_cli.hpp"
#include "runtime/cluster_executor.hpp"

namespace {

const char* kUsage =
    "usage: tide [options] [script [args]]\n"
    "       tide worker --redis URL [options]   (tide.cluster workers; tide worker --help)\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v, --version  show version information\n"
    "  -h, --help     show this help\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "Environment: TIDE_LOG=trace|debug|info|warn|error|off sets the log level.\n";

// Exit status of a failed chunk: 130 for Ctrl-C (as shells expect), else 1.
int report(lua_State* L, int status) {
  if (status == LUA_OK) return 0;
  const char* msg = lua_tostring(L, -1);
  std::fprintf(stderr, "tide: %s\n", msg ? msg : "(error object is not a string)");
  std::fflush(stderr);
  lua_pop(L, 1);
  return 1;
}

bool last_error_interrupted = false;

int run_chunk(lua_State* L, int status, int nargs) {
  if (status == LUA_OK) status = tide::runtime::pcall_traceback(L, nargs, 0, &last_error_interrupted);
  return report(L, status);
}

int do_string(lua_State* L, const char* code) {
  return run_chunk(L, luaL_loadbuffer(L, code, std::strlen(code), "=(command line)"), 0);
}

int do_require(lua_State* L, const char* spec) {
  std::string s(spec);
  std::string global = s, mod = s;
  if (auto eq = s.find('='); eq != std::string::npos) {
    global = s.substr(0, eq);
    mod = s.substr(eq + 1);
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, mod.c_str());
  int status = tide::runtime::pcall_traceback(L, 1, 1, &last_error_interrupted);
  if (status == LUA_OK) lua_setglobal(L, global.c_str());
  return report(L, status);
}

// Runs the file argv[script] ("-" or script 0: stdin) with argv[script+1..]
// as its arguments (`...`).
int do_script(lua_State* L, char** argv, int script, int argc) {
  const char* fname = script ? argv[script] : nullptr;
  if (fname && std::strcmp(fname, "-") == 0) fname = nullptr;
  int status = luaL_loadfile(L, fname);
  int nargs = 0;
  if (status == LUA_OK && script) {
    nargs = argc - script - 1;
    luaL_checkstack(L, nargs + 3, "too many arguments to script");
    for (int i = script + 1; i < argc; ++i) lua_pushstring(L, argv[i]);
  }
  return run_chunk(L, status, nargs);
}

void create_arg_table(lua_State* L, char** argv, int argc, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; ++i) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

struct Options {
  int script = 0;  // index of the script in argv, 0 if none
  bool interactive = false, version = false, help = false, has_e = false;
};

// Returns false (and prints usage) on a bad option.
bool parse(int argc, char** argv, Options& o) {
  int i = 1;
  for (; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-') break;
    if (std::strcmp(a, "-") == 0) break;
    if (std::strcmp(a, "--") == 0) {
      ++i;
      break;
    }
    if (std::strcmp(a, "-i") == 0) {
      o.interactive = true;
    } else if (std::strcmp(a, "-v") == 0 || std::strcmp(a, "--version") == 0) {
      o.version = true;
    } else if (std::strcmp(a, "-h") == 0 || std::strcmp(a, "--help") == 0) {
      o.help = true;
    } else if (std::strcmp(a, "-e") == 0 || std::strcmp(a, "-l") == 0) {
      if (a[1] == 'e') o.has_e = true;
      if (++i >= argc) {
        std::fprintf(stderr, "tide: '%s' needs argument\n%s", a, kUsage);
        return false;
      }
    } else {
      std::fprintf(stderr, "tide: unrecognized option '%s'\n%s", a, kUsage);
      return false;
    }
  }
  o.script = i < argc ? i : 0;
  return true;
}

// Runs -e and -l in order, up to the script.
int run_options(lua_State* L, int argc, char** argv, const Options& o) {
  int end = o.script ? o.script : argc;
  for (int i = 1; i < end; ++i) {
    if (std::strcmp(argv[i], "-e") == 0) {
      if (int s = do_string(L, argv[++i])) return s;
    } else if (std::strcmp(argv[i], "-l") == 0) {
      if (int s = do_require(L, argv[++i])) return s;
    }
  }
  return 0;
}

// Host exit (threads, child processes and pool tasks joined or stopped).
// Ctrl-C while it waits, or one that came after the script's last
// instruction, makes the exit status 130 (issue 15 defect 4): the waits
// swallow Interrupted to stop the work, so the SIGINT count tells.
bool exit_host(bool interrupted, int& status) {
  std::uint64_t before = tide::sigint_count();
  bool pending = tide::sigint_pending(false);
  bool all_done = tide::shutdown_host({interrupted || pending});
  if (pending || tide::sigint_count() != before) status = 130;
  return all_done;
}

// os.exit in the main state: join threads first, as Python's sys.exit
// does, so no worker runs while the process tears down.
int exit_after_threads(lua_State* L) {
  int status = 0;
  exit_host(false, status);
  if (status == 130) {
    lua_pushinteger(L, 130);
    lua_replace(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

void wrap_os_exit(lua_State* L) {
  lua_getglobal(L, "os");
  lua_getfield(L, -1, "exit");
  lua_pushcclosure(L, exit_after_threads, 1);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
}

struct Run {
  int argc;
  char** argv;
  const Options* options;
  int status = 0;
};

// Everything that touches the main state runs here, under lua_pcall (lua.c's
// pmain): a Lua error outside any chunk (out of memory building `arg`) is
// reported, not a panic. Chunks run under their own pcall and set
// run->status.
int pmain(lua_State* L) {
  auto* run = static_cast<Run*>(lua_touserdata(L, 1));
  const Options& o = *run->options;
  int argc = run->argc;
  char** argv = run->argv;
  wrap_os_exit(L);
  create_arg_table(L, argv, argc, o.script);
  int status = run_options(L, argc, argv, o);
  if (status == 0 && o.script) status = do_script(L, argv, o.script, argc);
  if (status == 0 && (o.interactive || (!o.script && !o.has_e && !o.version))) {
    if (o.interactive || isatty(STDIN_FILENO))
      tide::repl::run(L);
    else
      status = do_script(L, argv, 0, argc);  // `tide < file`: run stdin
  }
  run->status = status;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tide::tune_malloc_for_pools();
  // tide.process's internal modes (spawned workers, the forkserver).
  tide::bindings::register_modules();
  tide::runtime::install_child_runner();
  // Spawned children run this very binary; so do the children of spawned
  // workers and of the forkserver (a pool task may start processes too).
  char exe[4096] = "tide";
  if (ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1); n > 0) {
    exe[n] = '\0';
    tide::process::set_tide_command(exe);
  }
  if (int status; tide::process::run_hidden_mode(argc, argv, status)) {
    std::fflush(nullptr);
    std::_Exit(status);
  }
  // `tide worker ...`: tide.cluster's worker command (a script named
  // "worker" runs as `tide ./worker`).
  if (argc > 1 && std::strcmp(argv[1], "worker") == 0) {
    int status = tide::cluster::run_worker_command(argc - 1, argv + 1, tide::runtime::cluster_executor_factory(),
                                                   tide::runtime::cluster_lua_version(), exe);
    tide::shutdown_host({});
    return status;
  }
  Options o;
  if (!parse(argc, argv, o)) return 1;
  if (o.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (o.version) {
    std::printf("tide %s (%s)\n", TIDE_VERSION, LUA_RELEASE);
    if (!o.script && !o.interactive && !o.has_e) return 0;
  }
  lua_State* L = nullptr;
  try {
    L = tide::runtime::new_state();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tide: %s\n", e.what());
    return 1;
  }
  tide::runtime::set_main_state(L);
  tide::runtime::install_sigint_handler();
  tide::log::debug("tide {} started", TIDE_VERSION);

  Run run{argc, argv, &o};
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &run);
  int status = report(L, lua_pcall(L, 1, 0, 0));
  if (status == 0) status = run.status;
  if (status != 0 && last_error_interrupted) status = 130;

  std::fflush(stdout);
  bool all_done = exit_host(last_error_interrupted, status);
  if (!all_done) {
    // A thread ignored cancellation (stuck in C code): its state cannot be
    // closed safely, so leave without running destructors.
    tide::log::warn("some threads did not stop at exit");
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(status);
  }
  tide::runtime::set_main_state(nullptr);
  lua_close(L);
  return status;
}
