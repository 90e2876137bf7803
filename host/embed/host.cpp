// tide::Host and tide::Future (tide.hpp). Every Lua API call that may
// raise runs inside a C function called with lua_pcall (run_protected), and
// C++ objects are made only outside it, so no Lua error ever crosses a C++
// frame with live destructors, and the caller sees tide::Error instead.
#include <lua.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "core/log.hpp"
#include "future/future.hpp"
#include "codec/codec.hpp"
#include "embed/bridge.hpp"
#include "luabase/error.hpp"
#include "luabase/handles.hpp"
#include "modules.hpp"
#include "process/launch.hpp"
#include "process/worker.hpp"
#include "runtime/async_task.hpp"
#include "runtime/child_main.hpp"
#include "runtime/done_callbacks.hpp"
#include "runtime/state.hpp"
#include "thread/host_exit.hpp"
#include "tide.hpp"

namespace tide {

using embed::push_named;
using embed::push_value;
using embed::run_protected;
using embed::take_values;

namespace {

std::atomic<int> g_hosts{0};  // live Hosts: the last one shuts the host down

const char kHostPool = 0;  // registry[&kHostPool]: the Host's own pool, if any

struct CallCtx {
  const std::string* name;
  const Values* args;
};

int call_body(lua_State* L) {
  auto* c = static_cast<CallCtx*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  push_named(L, *c->name);
  luaL_checkstack(L, static_cast<int>(c->args->size()) + 1, "too many arguments");
  for (std::size_t i = 0; i < c->args->size(); ++i) push_value(L, (*c->args)[i]);
  lua_call(L, static_cast<int>(c->args->size()), LUA_MULTRET);
  return lua_gettop(L);
}

int submit_body(lua_State* L) {
  auto* c = static_cast<CallCtx*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kHostPool) == LUA_TNIL) {  // 1: the pool
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "tide.pool");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "default");
    lua_remove(L, -2);
    lua_call(L, 0, 1);
  }
  lua_getfield(L, 1, "submit");  // 2
  lua_pushvalue(L, 1);           // 3: self
  push_named(L, *c->name);       // 4: fn
  luaL_checkstack(L, static_cast<int>(c->args->size()) + 1, "too many arguments");
  for (std::size_t i = 0; i < c->args->size(); ++i) push_value(L, (*c->args)[i]);
  lua_call(L, 2 + static_cast<int>(c->args->size()), 1);
  return 1;
}

int make_pool_body(lua_State* L) {
  auto workers = *static_cast<int*>(lua_touserdata(L, 1));
  lua_getglobal(L, "require");
  lua_pushliteral(L, "tide.pool");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "ThreadPool");
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, workers);
  lua_setfield(L, -2, "workers");
  lua_pushliteral(L, "HostPool");
  lua_setfield(L, -2, "name");
  lua_call(L, 1, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kHostPool);
  return 0;
}

int shutdown_pool_body(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kHostPool) == LUA_TNIL) return 0;
  lua_getfield(L, -1, "shutdown");
  lua_insert(L, -2);
  lua_call(L, 1, 0);
  return 0;
}

int module_path_body(lua_State* L) {
  auto* dirs = static_cast<const std::vector<std::string>*>(lua_touserdata(L, 1));
  lua_getglobal(L, "package");  // 2
  lua_getfield(L, 2, "path");   // 3
  luaL_Buffer b;                // the buffer owns the stack above this point
  luaL_buffinit(L, &b);
  for (const std::string& d : *dirs) {
    luaL_addlstring(&b, d.data(), d.size());
    luaL_addstring(&b, "/?.lua;");
    luaL_addlstring(&b, d.data(), d.size());
    luaL_addstring(&b, "/?/init.lua;");
  }
  lua_pushvalue(L, 3);
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_setfield(L, 2, "path");
  return 0;
}

int run_file_body(lua_State* L) {
  auto* path = static_cast<const std::string*>(lua_touserdata(L, 1));
  if (luaL_loadfilex(L, path->c_str(), "t") != LUA_OK) lua_error(L);
  lua_call(L, 0, 0);
  return 0;
}

struct ChunkCtx {
  std::string_view code;
  const std::string* name;
};

int run_string_body(lua_State* L) {
  auto* c = static_cast<ChunkCtx*>(lua_touserdata(L, 1));
  if (luaL_loadbufferx(L, c->code.data(), c->code.size(), c->name->c_str(), "t") != LUA_OK) lua_error(L);
  lua_call(L, 0, 0);
  return 0;
}

int require_body(lua_State* L) {
  auto* name = static_cast<const std::string*>(lua_touserdata(L, 1));
  lua_getglobal(L, "require");
  lua_pushlstring(L, name->data(), name->size());
  lua_call(L, 1, 0);
  return 0;
}

int callbacks_body(lua_State* L) {
  lua_pushinteger(L, runtime::run_done_callbacks(L));
  return 1;
}

}  // namespace

// ---- Host -------------------------------------------------------------------

struct Future::State {
  std::weak_ptr<Host::Impl*> host;  // expires with the Host
  Ref<future::Future> fut;
  std::function<void(Future&)> then;
};

struct Host::Impl {
  lua_State* L = nullptr;
  std::shared_ptr<Impl*> token;  // Futures hold it weakly
  std::vector<std::shared_ptr<Future::State>> waiting;  // then() set, not run yet
};

void Host::register_module(const char* name, NativeModuleOpener open) {
  bindings::register_modules();  // tide's own first, so a host module cannot shadow them
  runtime::register_module(name, open);
}

Host::Host(HostOptions o) : impl_(std::make_unique<Impl>()) {
  bindings::register_modules();
  if (!o.log_level.empty() && !log::set_level(o.log_level))
    throw Error(ErrorKind::ArgumentError, "unknown log level '" + o.log_level + "'");
  if (o.log_sink) log::set_output(std::move(o.log_sink));
  if (!o.worker_executable.empty()) process::set_tide_command(o.worker_executable);
  if (o.workers < 0) throw Error(ErrorKind::ArgumentError, "workers must be 0 (one per CPU) or more");
  impl_->L = runtime::new_state();
  impl_->token = std::make_shared<Impl*>(impl_.get());
  try {
    if (!o.module_path.empty()) run_protected(impl_->L, module_path_body, &o.module_path);
    if (o.workers > 0) run_protected(impl_->L, make_pool_body, &o.workers);
  } catch (...) {
    lua_close(impl_->L);
    throw;
  }
  g_hosts.fetch_add(1);
}

Host::~Host() {
  impl_->token.reset();
  try {
    run_protected(impl_->L, shutdown_pool_body, nullptr);
  } catch (const Error& e) {
    log::warn("host pool shutdown: {}", e.what());
  }
  bool all_done = true;
  if (g_hosts.fetch_sub(1) == 1) all_done = shutdown_host({});
  if (all_done) lua_close(impl_->L);  // else a thread still runs C code: leave the state
}

void Host::run_file(const std::string& path) { run_protected(impl_->L, run_file_body, const_cast<std::string*>(&path)); }

void Host::run_string(std::string_view code, const std::string& chunkname) {
  ChunkCtx c{code, &chunkname};
  run_protected(impl_->L, run_string_body, &c);
}

Values Host::call(const std::string& name, const Values& args) {
  CallCtx c{&name, &args};
  int n = run_protected(impl_->L, call_body, &c);
  return take_values(impl_->L, n);
}

void Host::require(const std::string& module) {
  run_protected(impl_->L, require_body, const_cast<std::string*>(&module));
}

Future Host::submit(const std::string& name, const Values& args) {
  CallCtx c{&name, &args};
  lua_State* L = impl_->L;
  run_protected(L, submit_body, &c);
  Handle* h = test_handle(L, -1);
  auto* f = h ? dynamic_cast<future::Future*>(h->obj) : nullptr;
  if (!f) {
    lua_pop(L, 1);
    throw Error(ErrorKind::InvalidState, "the pool's submit did not return a Future");
  }
  auto s = std::make_shared<Future::State>();
  s->host = impl_->token;
  s->fut = Ref<future::Future>::share(f);
  lua_pop(L, 1);
  return Future(std::move(s));
}

int Host::pump(double max_seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_seconds > 0 ? max_seconds : 0);
  int ran = 0;
  int n = run_protected(impl_->L, callbacks_body, nullptr);
  ran += static_cast<int>(lua_tointeger(impl_->L, -1));
  lua_pop(impl_->L, n);
  n = run_protected(impl_->L, runtime::pump_async_loop, nullptr);  // async.loop()'s ready tasks
  ran += static_cast<int>(lua_tointeger(impl_->L, -1));
  lua_pop(impl_->L, n);
  auto& waiting = impl_->waiting;
  for (std::size_t i = 0; i < waiting.size();) {
    if (!waiting[i]->fut->done()) {
      ++i;
      continue;
    }
    std::shared_ptr<Future::State> s = std::move(waiting[i]);
    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
    auto callback = std::move(s->then);
    Future f(std::move(s));
    callback(f);
    ++ran;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return ran;
}

lua_State* Host::state() const noexcept { return impl_->L; }

// ---- Future -----------------------------------------------------------------

Future::Future(Future&&) noexcept = default;
Future& Future::operator=(Future&&) noexcept = default;
Future::~Future() = default;

bool Future::ready() const noexcept { return s_ && s_->fut->done(); }

Values Future::get(double timeout_seconds) {
  if (!s_) throw Error(ErrorKind::InvalidState, "this Future was moved from");
  auto token = s_->host.lock();
  if (!token) throw Error(ErrorKind::InvalidState, "the Host of this Future is gone");
  Deadline d = timeout_seconds < 0 ? Deadline::never() : Deadline::after(timeout_seconds);
  if (!s_->fut->wait(d)) throw Error(ErrorKind::Timeout, "the task did not finish in time");
  Outcome o = s_->fut->outcome();
  if (o.state == CompletionState::Cancelled) throw Error(ErrorKind::Cancelled, "the task was cancelled");
  if (o.state == CompletionState::Failed) {
    std::string where = o.worker.empty() ? "" : " in worker '" + o.worker + "'";
    std::string message = o.failure_kind == ErrorKind::RemoteError ? "task failed" + where + ": " + o.text : o.text;
    throw Error(o.failure_kind, std::move(message), std::move(o.traceback));
  }
  lua_State* L = (*token)->L;
  int n = codec::decode(L, o.values);
  return take_values(L, n);
}

void Future::then(std::function<void(Future&)> callback) {
  if (!s_) throw Error(ErrorKind::InvalidState, "this Future was moved from");
  auto token = s_->host.lock();
  if (!token) throw Error(ErrorKind::InvalidState, "the Host of this Future is gone");
  if (s_->then) throw Error(ErrorKind::InvalidState, "then() was already called on this Future");
  s_->then = std::move(callback);
  (*token)->waiting.push_back(s_);
}

bool run_worker_mode(int argc, char** argv, int* status) {
  bindings::register_modules();
  runtime::install_child_runner();
  int st = 0;
  if (!process::run_hidden_mode(argc, argv, st)) return false;
  if (status) *status = st;
  return true;
}

}  // namespace tide
