// tide's C++ embedding API (API.md §15): a program links the host library,
// makes a tide::Host, registers its own native modules (opened in every
// worker state too: threads, pool workers, child processes), runs scripts,
// calls Lua functions with C++ values, submits work to the default pool,
// and calls pump() from its own main loop to run what has completed,
// without ever blocking (a game's frame loop).
//
//   tide::Host host;                                  // a Lua state with tide loaded
//   tide::Host::register_module("game", luaopen_game); // before or after: every new state has it
//   host.run_string("function add(a, b) return a + b end");
//   int64_t sum = host.call("add", {1, 2}).at(0).integer();   // 3
//   tide::Future f = host.submit("add", {40, 2});     // runs on a pool worker
//   f.then([](tide::Future& done) { ... done.get() ... });
//   for (;;) { ...frame...; host.pump(0.001); }      // runs callbacks whose futures are done
//
// Threads: a Host and its Futures belong to the thread that made the Host;
// call them there only (Future::ready() excepted: any thread). Several
// Hosts may live in one process, each on its own thread.
//
// Errors: every failure is a tide::Error (kind(), what(), traceback()); no
// Lua error ever unwinds through the caller's frames. A tide error object
// keeps its kind; any other value raised by Lua code arrives as
// RemoteError carrying its text.
//
// Include as <tide/tide.hpp> once installed (find_package(tide CONFIG) ->
// target tide::host, or pkg-config tide). Only lua_State and lua_CFunction
// come from Lua, and only for registering modules.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

struct lua_State;

namespace tide {

using NativeModuleOpener = int (*)(lua_State*);

// A value crossing between C++ and Lua: nil, boolean, integer, number or
// string (binary-safe). Lua tables, functions and tide objects stay in Lua.
class Value {
 public:
  Value() = default;  // nil
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned i) : v_(static_cast<std::int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}

  bool is_nil() const noexcept { return v_.index() == 0; }
  bool is_boolean() const noexcept { return v_.index() == 1; }
  bool is_integer() const noexcept { return v_.index() == 2; }
  bool is_number() const noexcept { return v_.index() == 2 || v_.index() == 3; }
  bool is_string() const noexcept { return v_.index() == 4; }

  // Each throws tide::Error (ArgumentError) when the value is of another type;
  // number() also converts an integer.
  bool boolean() const;
  std::int64_t integer() const;
  double number() const;
  const std::string& string() const;

  // "nil", "true", 42, 0.5, or the string itself: for messages and logs.
  std::string to_string() const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string> v_;
};

using Values = std::vector<Value>;

struct HostOptions {
  // Size of the default pool (host.submit): 0 means one worker per CPU.
  int workers = 0;
  // "trace", "debug", "info", "warn", "error" or "off"; empty: $TIDE_LOG, else warn.
  std::string log_level;
  // Receives each log record (level name, formatted line) instead of stderr.
  // Called from any thread; must not call back into tide.
  std::function<void(std::string_view level, std::string_view line)> log_sink;
  // Directories searched by require for Lua modules ("dir/?.lua" and
  // "dir/?/init.lua"), before the default package.path.
  std::vector<std::string> module_path;
  // The program spawn and forkserver children run. Empty: $TIDE_EXECUTABLE,
  // then the tide command installed beside this library, then `tide` in
  // $PATH. A program may name itself if its main() calls
  // tide::run_worker_mode(argc, argv) first (see below).
  std::string worker_executable;
};

class Future;

class Host {
 public:
  explicit Host(HostOptions options = {});
  // Waits for work the host started (non-daemon threads, pools' queued
  // tasks, child processes), as the tide command does at exit.
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // A native module opened with `open` by require(name) in every state
  // tide makes from now on (this host's, threads', pool workers', every
  // child process's); its C functions can be passed to workers. Any thread;
  // usually before the first Host.
  static void register_module(const char* name, NativeModuleOpener open);

  void run_file(const std::string& path);
  void run_string(std::string_view code, const std::string& chunkname = "=(host)");

  // Calls the function at `name` (a global, or a dotted path such as
  // "mymod.step" reached through globals or require(mymod)) with `args`;
  // returns all its results.
  Values call(const std::string& name, const Values& args = {});

  // require(module), for its side effects (a module that fails throws).
  void require(const std::string& module);

  // Runs the function at `name` (as for call) on the default pool with
  // `args`: the function is copied to a worker state as tide copies every
  // function (bytecode and upvalues), so it may be a Lua function defined by
  // a script or a registered module's C function ("game.crunch").
  Future submit(const std::string& name, const Values& args = {});

  // Runs, without blocking, what is ready: Future::then callbacks whose
  // futures are done, Lua done-callbacks (future:add_done_callback), and
  // ready tasks of this state's tide.async loop. Returns at once when
  // nothing is ready; otherwise returns after `max_seconds` at the latest
  // (a callback already running is not cut short). Returns how many
  // callbacks ran.
  int pump(double max_seconds = 0.0);

  // The host's Lua state, for a program that uses the Lua C API itself.
  lua_State* state() const noexcept;

 private:
  friend class Future;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The result of Host::submit: a tide Future.
class Future {
 public:
  Future(Future&&) noexcept;
  Future& operator=(Future&&) noexcept;
  ~Future();

  // True once the task finished (any thread may ask).
  bool ready() const noexcept;
  // The task's results; waits until it finished, or `timeout_seconds`
  // (a negative timeout: for ever) and then throws Timeout. A task that
  // raised throws its error (RemoteError with the worker's traceback).
  Values get(double timeout_seconds = -1.0);
  // Runs `callback` on the host's thread, in pump(), once the task finished
  // (in the next pump() if it already has). At most one per Future.
  void then(std::function<void(Future&)> callback);

 private:
  friend class Host;
  struct State;
  explicit Future(std::shared_ptr<State> s) : s_(std::move(s)) {}
  std::shared_ptr<State> s_;
};

// For a program that names itself as the worker executable: call first in
// main(); returns true (and sets *status) when this process was started as
// a tide worker or forkserver, which must then exit with *status.
bool run_worker_mode(int argc, char** argv, int* status);

}  // namespace tide
