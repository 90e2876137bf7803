// tide._pool: the native half of tide.pool (API.md §6). ThreadPool handles
// with submit/shutdown/close/join/terminate and the process's default pool;
// map, imap, starmap, apply and progress bars are Lua (lua/tide/pool.lua),
// built on submit and futures.
//
// submit(fn, ...): a function whose upvalues are only the global table (or
// none), and any C function, is encoded once per submitting state and the
// blob reused for every later submit (a weak table fn -> blob box); each
// worker then decodes it once. A closure with other upvalues is encoded at
// every submit, so workers see its upvalues as they were at that submit.
#include <pthread.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <new>

#include "codec/codec.hpp"
#include "core/log.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "pool/thread_pool.hpp"
#include "runtime/pool_runner.hpp"
#include "thread/host_exit.hpp"
#include "runtime/state.hpp"
#include "shm/owner.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"
#include "worker_fields.hpp"

namespace tide {
namespace {

using pool::FunctionBlob;
using pool::ThreadPool;
using namespace sync_binding;

constexpr const char* kModule = "tide.pool";  // defines the handle type (with the Lua methods)
constexpr const char* kBlobs = "tide.pool.blobs";              // weak fn -> BlobBox
constexpr const char* kBlobsByCode = "tide.pool.blobs_by_code";  // bytecode -> weak BlobBox
constexpr const char* kBoxMeta = "tide.pool.BlobBox";  // its metatable

struct BlobBox {
  std::shared_ptr<const FunctionBlob> blob;
};

int box_gc(lua_State* L) {
  static_cast<BlobBox*>(lua_touserdata(L, 1))->~BlobBox();
  return 0;
}

// True for a C function or a Lua function whose upvalues are all the
// global table: its encoding never changes, so it can be reused.
bool cacheable(lua_State* L, int fn) {
  if (lua_iscfunction(L, fn)) return true;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  const void* globals = lua_topointer(L, -1);
  lua_pop(L, 1);
  for (int i = 1; lua_getupvalue(L, fn, i); ++i) {
    bool g = lua_type(L, -1) == LUA_TTABLE && lua_topointer(L, -1) == globals;
    lua_pop(L, 1);
    if (!g) return false;
  }
  return true;
}

// A registry table with weak keys or values (`mode`), created if missing.
void push_weak_table(lua_State* L, const char* key, const char* mode) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

// lua_dump into a Lua string, as string.dump does: the buffer starts in
// the first write, above the function being dumped.
struct DumpState {
  luaL_Buffer b;
  bool init = false;
};

int dump_to_buffer(lua_State* L, const void* p, std::size_t n, void* ud) {
  auto* d = static_cast<DumpState*>(ud);
  if (!d->init) {
    d->init = true;
    luaL_buffinit(L, &d->b);
  }
  luaL_addlstring(&d->b, static_cast<const char*>(p), n);
  return 0;
}

// The box caching fn's blob (created empty if new), or nullptr when fn is
// not cacheable. Found by closure first, then by bytecode: a loop that
// submits `function(x) ... end` makes a new closure each time, all equal.
// Lua API only: may raise, holds no C++ object.
BlobBox* blob_box(lua_State* L, int fn) {
  if (!cacheable(L, fn)) return nullptr;
  int top = lua_gettop(L);
  push_weak_table(L, kBlobs, "k");  // closure -> box
  lua_pushvalue(L, fn);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    auto* box = static_cast<BlobBox*>(lua_touserdata(L, -1));
    lua_settop(L, top);
    return box;
  }
  lua_pop(L, 1);
  push_weak_table(L, kBlobsByCode, "v");  // bytecode -> box
  if (lua_iscfunction(L, fn)) {
    lua_pushlightuserdata(L, reinterpret_cast<void*>(lua_tocfunction(L, fn)));
  } else {
    DumpState d;
    lua_pushvalue(L, fn);
    lua_dump(L, dump_to_buffer, &d, 0);  // with debug info: line numbers must match
    if (!d.init) luaL_buffinit(L, &d.b);
    luaL_pushresult(&d.b);
    lua_remove(L, -2);
  }
  int code = lua_gettop(L);
  BlobBox* box;
  lua_pushvalue(L, code);
  if (lua_rawget(L, -3) == LUA_TUSERDATA) {
    box = static_cast<BlobBox*>(lua_touserdata(L, -1));
  } else {
    lua_pop(L, 1);
    box = static_cast<BlobBox*>(lua_newuserdatauv(L, sizeof(BlobBox), 0));
    new (box) BlobBox{};
    if (luaL_newmetatable(L, kBoxMeta)) {
      lua_pushcfunction(L, box_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, code);
    lua_pushvalue(L, -2);
    lua_rawset(L, code - 1);
  }
  lua_pushvalue(L, fn);
  lua_pushvalue(L, -2);
  lua_rawset(L, top + 1);
  lua_settop(L, top);
  return box;
}

std::shared_ptr<const FunctionBlob> encode_function(lua_State* L, int fn, bool cacheable) {
  auto blob = std::make_shared<FunctionBlob>();
  codec::encode(L, fn, 1, blob->message, {"function", 0});
  blob->cacheable = cacheable;
  return blob;
}

// ---- the default pool, and exit ------------------------------------------------

void at_exit(const ExitContext& ctx) noexcept { ThreadPool::shutdown_all(ctx.interrupted); }

Ref<ThreadPool> make_pool(pool::Options options, std::shared_ptr<const Message> init) {
  on_host_exit(at_exit);
  options.runner = runtime::runner_factory(std::move(init));
  return ThreadPool::create(std::move(options));
}

int cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

// Held while the default pool is made, which starts threads (so it cannot
// be a ForkSafe mutex: those sections must not wait for other locks). A
// fork child gets a fresh one instead; it remakes the pool anyway.
std::mutex* g_default_mutex = new std::mutex;  // never destroyed
void fresh_default_mutex() noexcept { g_default_mutex = new std::mutex; }

Ref<ThreadPool> default_pool() {
  static std::once_flag atfork;
  std::call_once(atfork, [] { pthread_atfork(nullptr, nullptr, fresh_default_mutex); });
  static Ref<ThreadPool>* pool = new Ref<ThreadPool>;  // never destroyed
  static pid_t owner = 0;
  std::lock_guard lock(*g_default_mutex);
  if (!*pool || owner != shm::current_pid() || (*pool)->is_shutdown() || (*pool)->broken()) {
    pool::Options o;
    o.workers = cpu_count();
    o.name = "DefaultPool";
    *pool = make_pool(std::move(o), nullptr);
    owner = shm::current_pid();
  }
  return *pool;
}

// ---- module functions --------------------------------------------------------

const char* const kPoolOptions[] = {"workers", "initializer", "initargs", "max_tasks_per_worker", "name", nullptr};

// ThreadPool{workers=?, initializer=?, initargs=?, max_tasks_per_worker=?, name=?}
int l_ThreadPool(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  check_table(L, 1);
  check_options(L, 1, kPoolOptions);
  lua_settop(L, 1);
  lua_Integer workers = cpu_count(), max_tasks = 0;
  if (lua_getfield(L, 1, "workers") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 4096)
      raise_error(L, ErrorKind::ArgumentError, "workers must be an integer from 1 to 4096, got %s",
                  describe(L, -1));
    workers = lua_tointeger(L, -1);
  }
  if (lua_getfield(L, 1, "max_tasks_per_worker") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > INT32_MAX)
      raise_error(L, ErrorKind::ArgumentError, "max_tasks_per_worker must be a positive integer, got %s",
                  describe(L, -1));
    max_tasks = lua_tointeger(L, -1);
  }
  std::string_view name;
  if (lua_getfield(L, 1, "name") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      raise_error(L, ErrorKind::ArgumentError, "name must be a string, got %s", type_of(L, -1));
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    name = std::string_view(s, len);  // every byte: a name may hold zeros
  }
  int init = 0, ninit = 0;
  if (lua_getfield(L, 1, "initializer") != LUA_TNIL) {
    if (!lua_isfunction(L, -1))
      raise_error(L, ErrorKind::ArgumentError, "initializer must be a function, got %s", type_of(L, -1));
    init = lua_gettop(L);
    ninit = 1;
    ninit += push_args_field(L, 1, "initargs");
  }
  return protect(L, [&] {
    std::shared_ptr<Message> payload;
    if (init) {
      payload = std::make_shared<Message>();
      codec::encode(L, init, ninit, *payload, {"initializer", 0});
    }
    pool::Options o;
    o.workers = static_cast<int>(workers);
    o.max_tasks_per_worker = static_cast<int>(max_tasks);
    o.name = name;
    push_handle(L, make_pool(std::move(o), std::move(payload)).get());
    return 1;
  });
}

int l_default(lua_State* L) {
  return protect(L, [&] {
    push_handle(L, default_pool().get());
    return 1;
  });
}

int l_stderr_isatty(lua_State* L) {
  lua_pushboolean(L, isatty(STDERR_FILENO));
  return 1;
}

// ---- methods -------------------------------------------------------------------

int m_submit(lua_State* L) {
  ThreadPool* p = self<ThreadPool>(L);
  check_function(L, 2);
  runtime::run_due_callbacks(L);
  int nargs = lua_gettop(L) - 2;
  BlobBox* box = blob_box(L, 2);
  return protect(L, [&] {
    std::shared_ptr<const FunctionBlob> fn;
    if (box) {
      if (!box->blob) box->blob = encode_function(L, 2, true);
      fn = box->blob;
    } else {
      fn = encode_function(L, 2, false);
    }
    Message args;
    codec::encode(L, 3, nargs, args, {"argument", 1});
    Ref<future::Future> fut;
    try {
      fut = p->submit(std::move(fn), std::move(args));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::BrokenPool || !p->broken()) throw;
      push_failure(L, p->broken_outcome(), "cannot submit:");  // with the cause
      return kRaise;
    }
    push_handle(L, fut.get());
    return 1;
  });
}

const char* const kShutdownOptions[] = {"wait", "cancel_futures", nullptr};

// The boolean field `key` of the options table at `arg` (`def` when nil).
bool bool_option(lua_State* L, int arg, const char* key, bool def) {
  int t = lua_getfield(L, arg, key);
  bool v = t == LUA_TNIL ? def : lua_toboolean(L, -1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    arg_error(L, arg, lua_pushfstring(L, "field '%s' must be a boolean, got %s", key, type_of(L, -1)));
  lua_pop(L, 1);
  return v;
}

// shutdown{wait=true, cancel_futures=false}
int m_shutdown(lua_State* L) {
  ThreadPool* p = self<ThreadPool>(L);
  bool wait = true, cancel = false;
  if (!lua_isnoneornil(L, 2)) {
    check_options(L, 2, kShutdownOptions);
    wait = bool_option(L, 2, "wait", true);
    cancel = bool_option(L, 2, "cancel_futures", false);
  }
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    p->shutdown(wait, cancel);
    return 0;
  });
}

int m_close(lua_State* L) {
  ThreadPool* p = self<ThreadPool>(L);
  return protect(L, [&] {
    p->shutdown(false, false);
    return 0;
  });
}

int m_join(lua_State* L) {
  ThreadPool* p = self<ThreadPool>(L);
  Deadline d = check_timeout(L, 2);
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    lua_pushboolean(L, p->join(d));
    return 1;
  });
}

int m_terminate(lua_State* L) {
  ThreadPool* p = self<ThreadPool>(L);
  return protect(L, [&] {
    p->terminate();
    return 0;
  });
}

// __close: shutdown with wait; a closed (released) handle is left alone.
int m_close_scope(lua_State* L) {
  auto* h = check_handle(L, 1, ThreadPool::kTypeName);
  if (!h->obj) return 0;
  auto* p = static_cast<ThreadPool*>(h->obj);
  return protect(L, [&] {
    p->shutdown(true, false);
    return 0;
  });
}

int pool_getter(lua_State* L) {
  auto* p = self<ThreadPool>(L);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  std::string_view k = key;
  if (k == "name") {
    lua_pushlstring(L, p->name().data(), p->name().size());
    return 1;
  }
  if (k == "workers") {
    lua_pushinteger(L, p->workers());
    return 1;
  }
  return 0;
}

int pool_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, ThreadPool::kTypeName);
  if (!h->obj) return push_state(L, "ThreadPool", "released");
  auto* p = static_cast<ThreadPool*>(h->obj);
  const char* state = p->broken() ? "broken" : p->is_shutdown() ? "shut down" : "running";
  lua_pushfstring(L, "ThreadPool '%s' (%d workers, %s)", p->name().c_str(), p->workers(), state);
  return 1;
}

const luaL_Reg kMethods[] = {{"submit", m_submit},       {"shutdown", m_shutdown}, {"close", m_close},
                             {"join", m_join},           {"terminate", m_terminate}, {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__tostring", pool_tostring}, {"__close", m_close_scope}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"ThreadPool", l_ThreadPool},
                               {"default", l_default},
                               {"stderr_isatty", l_stderr_isatty},
                               {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(ThreadPool::kTypeName, "tide.pool");
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide__pool(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  install_class(L, ThreadPool::kTypeName, kModule, kMethods, pool_getter, kMeta);
  luaL_newlib(L, kFunctions);
  // The methods table, for tide.pool to add map, imap, apply...
  luaL_getmetatable(L, ThreadPool::kTypeName);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 2);
  lua_setfield(L, -4, "methods");
  lua_pop(L, 2);
  return 1;
}
