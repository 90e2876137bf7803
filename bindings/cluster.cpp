// tide._cluster: the native half of tide.cluster (API.md §17). Pool
// handles with submit/shutdown/close/join/terminate over the Lua-free
// client (host/cluster/client.hpp); map, imap, starmap, apply and progress
// bars are the Lua methods every tide pool shares (lua/tide/_pool_api.lua),
// added by lua/tide/cluster.lua.
//
// Tasks leave the machine, so values are encoded portably: a tide object
// (lock, queue, shared value, future, thread, pool...) in a function's
// upvalues or an argument is a TransferError naming it and where it was.
// A function whose upvalues are only the global table (or a C function)
// is encoded once per submitting state (a weak table fn -> bytes).
//
// Also redis(url) -> a raw connection (call(...) -> reply), for tide's own
// specs and examples; internal, not part of the API.
#include <memory>
#include <string>

#include "cluster/client.hpp"
#include "cluster/keys.hpp"
#include "cluster/redis.hpp"
#include "cluster/secret.hpp"
#include "codec/codec.hpp"
#include "luabase/error.hpp"
#include "luabase/protect.hpp"
#include "modules.hpp"
#include "pool_binding.hpp"
#include "runtime/done_callbacks.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"

namespace tide {
namespace {

using cluster::Client;
using namespace sync_binding;

constexpr const char* kModule = "tide.cluster";            // defines the handle type (with the Lua methods)
constexpr const char* kRedisMeta = "tide.cluster.Redis";

const char* const kPoolOptions[] = {"url", "queue", "key", "key_file", "max_deliveries", "name", "connect_timeout", nullptr};

// ---- options -------------------------------------------------------------------

[[noreturn]] void option_error(lua_State* L, const char* fmt, const char* a = "", const char* b = "") {
  raise_error(L, ErrorKind::ArgumentError, fmt, a, b);
}

const char* opt_string_field(lua_State* L, const char* key) {
  if (lua_getfield(L, 1, key) == LUA_TNIL) return nullptr;
  if (lua_type(L, -1) != LUA_TSTRING) option_error(L, "option '%s' must be a string, got %s", key, luaL_typename(L, -1));
  return lua_tostring(L, -1);
}

// ---- module functions --------------------------------------------------------

// Pool{url=, queue=?, key=?, key_file=?, max_deliveries=?, name=?, connect_timeout=?}
int l_Pool(lua_State* L) {
  check_table(L, 1);
  lua_settop(L, 1);
  check_options(L, 1, kPoolOptions);
  const char* url = opt_string_field(L, "url");
  if (!url) option_error(L, "option 'url' is required (redis://[user:password@]host[:port][/db])");
  const char* queue = opt_string_field(L, "queue");
  const char* key = nullptr;
  size_t key_len = 0;
  if (lua_getfield(L, 1, "key") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) option_error(L, "option 'key' must be a string, got %s", luaL_typename(L, -1));
    key = lua_tolstring(L, -1, &key_len);
  }
  const char* key_file = opt_string_field(L, "key_file");
  const char* name = opt_string_field(L, "name");
  lua_Integer max_deliveries = 3;
  if (lua_getfield(L, 1, "max_deliveries") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 1000)
      option_error(L, "option 'max_deliveries' must be an integer from 1 to 1000, got %s", luaL_tolstring(L, -1, nullptr));
    max_deliveries = lua_tointeger(L, -1);
  }
  double timeout = 5.0;
  if (lua_getfield(L, 1, "connect_timeout") != LUA_TNIL) {
    lua_Number t = lua_tonumber(L, -1);
    if (!lua_isnumber(L, -1) || !(t > 0) || t > 3600)
      option_error(L, "option 'connect_timeout' must be seconds from 0 to 3600, got %s", luaL_tolstring(L, -1, nullptr));
    timeout = t;
  }
  return protect(L, [&] {
    cluster::ClientOptions o;
    o.url = cluster::RedisUrl::parse(url);
    if (queue) {
      cluster::check_queue_name(queue);
      o.queue = queue;
    }
    const char* source = "key=";
    if (key) {
      o.key.assign(key, key_len);
    } else if (key_file) {
      o.key = cluster::read_key_file(key_file);
      source = "key_file=";
    } else {
      o.key = cluster::key_from_environment();
      source = "TIDE_CLUSTER_KEY";
    }
    cluster::check_key(o.key, source);
    o.max_deliveries = static_cast<std::uint32_t>(max_deliveries);
    if (name) o.name = name;
    o.timeout = timeout;
    o.lua = LUA_VERSION;
    push_handle(L, Client::create(std::move(o)).get());
    return 1;
  });
}

// ---- methods -------------------------------------------------------------------

// submit(fn, ...) -> Future
int m_submit(lua_State* L) {
  Client* c = self<Client>(L);
  check_function(L, 2);
  runtime::run_due_callbacks(L);
  int nargs = lua_gettop(L) - 2;
  pool_binding::BlobBox* box = pool_binding::blob_box(L, 2);  // the pools' function cache
  return protect(L, [&] {
    std::shared_ptr<const pool::FunctionBlob> blob = pool_binding::function_blob(L, 2, box, true);
    std::string fn = blob->message.bytes;
    bool keep = blob->cacheable;
    Message args;
    codec::encode(L, 3, nargs, args, {"argument", 1, true});
    Ref<future::Future> f = c->submit(std::move(fn), keep, std::move(args.bytes), nargs);
    push_handle(L, f.get());
    return 1;
  });
}

// shutdown{wait=true, cancel_futures=false}
const char* const kShutdownOptions[] = {"wait", "cancel_futures", nullptr};

int m_shutdown(lua_State* L) {
  Client* c = self<Client>(L);
  bool wait = true, cancel = false;
  if (!lua_isnoneornil(L, 2)) {
    check_options(L, 2, kShutdownOptions);
    lua_getfield(L, 2, "wait");
    if (!lua_isnil(L, -1)) wait = lua_toboolean(L, -1);
    lua_getfield(L, 2, "cancel_futures");
    cancel = lua_toboolean(L, -1);
  }
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    c->shutdown(wait, cancel);
    return 0;
  });
}

int m_close(lua_State* L) {
  Client* c = self<Client>(L);
  return protect(L, [&] {
    c->shutdown(false, false);
    return 0;
  });
}

int m_join(lua_State* L) {
  Client* c = self<Client>(L);
  Deadline d = check_timeout(L, 2);
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    lua_pushboolean(L, c->join(d));
    return 1;
  });
}

int m_terminate(lua_State* L) {
  Client* c = self<Client>(L);
  return protect(L, [&] {
    c->terminate();
    return 0;
  });
}

// __close(pool, err): shutdown with wait, also when the block raised; but
// when it was left by Ctrl-C (Interrupted) or by the cancellation of its
// thread (Cancelled), waiting for every result is not what was asked: the
// pool is terminated instead (its pending futures are cancelled), as a
// ThreadPool is. A released handle is left alone.
int pool_close(lua_State* L) {
  auto* h = static_cast<Handle*>(luaL_checkudata(L, 1, Client::kTypeName));
  if (!h->obj) return 0;
  auto* c = static_cast<Client*>(h->obj);
  bool stop_now = is_error(L, 2, "Interrupted") || is_error(L, 2, "Cancelled");
  return protect(L, [&] {
    if (stop_now)
      c->terminate();
    else
      c->shutdown(true, false);
    return 0;
  });
}

int pool_getter(lua_State* L) {
  auto* c = self<Client>(L);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  std::string_view k = key;
  auto push = [&](const std::string& s) {
    lua_pushlstring(L, s.data(), s.size());
    return 1;
  };
  if (k == "name") return push(c->name());
  if (k == "queue") return push(c->queue());
  if (k == "url") return push(c->where());
  if (k == "id") return push(c->id());
  if (k == "workers") {
    lua_pushinteger(L, c->workers());
    return 1;
  }
  if (k == "pending") {
    return protect(L, [&] {
      lua_pushinteger(L, static_cast<lua_Integer>(c->pending()));
      return 1;
    });
  }
  if (k == "duplicates") {
    lua_pushinteger(L, static_cast<lua_Integer>(c->duplicates()));
    return 1;
  }
  return 0;
}

int pool_tostring(lua_State* L) {
  auto* h = static_cast<Handle*>(luaL_checkudata(L, 1, Client::kTypeName));
  if (!h->obj) return push_state(L, "cluster.Pool", "released");
  auto* c = static_cast<Client*>(h->obj);
  return protect(L, [&] {
    std::string s = "cluster.Pool '" + c->name() + "' (queue '" + c->queue() + "' at " + c->where() + ", " +
                    std::to_string(c->workers()) + " workers, " + (c->is_shutdown() ? "shut down" : "running") + ")";
    lua_pushlstring(L, s.data(), s.size());
    return 1;
  });
}

// ---- redis(url): a raw connection for specs -----------------------------------

struct RedisBox {
  cluster::Redis* r;
};

int redis_gc(lua_State* L) {
  auto* b = static_cast<RedisBox*>(luaL_checkudata(L, 1, kRedisMeta));
  delete b->r;
  b->r = nullptr;
  return 0;
}

void push_reply(lua_State* L, const cluster::Reply& r, bool nested) {
  using T = cluster::Reply::Type;
  switch (r.type) {
    case T::Nil: nested ? lua_pushboolean(L, 0) : lua_pushnil(L); break;
    case T::Integer: lua_pushinteger(L, r.integer); break;
    case T::Status:
    case T::String:
    case T::Error: lua_pushlstring(L, r.str.data(), r.str.size()); break;
    case T::Array:
      if (!lua_checkstack(L, 4)) throw Error(ErrorKind::OSError, "Redis reply nested too deeply", EPROTO);
      lua_createtable(L, static_cast<int>(r.elements.size()), 0);
      for (std::size_t i = 0; i < r.elements.size(); ++i) {
        push_reply(L, r.elements[i], true);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
      }
      break;
  }
}

// redis(url, [timeout]) -> connection
int l_redis(lua_State* L) {
  const char* url = check_string(L, 1);
  double timeout = luaL_optnumber(L, 2, 5.0);
  auto* b = static_cast<RedisBox*>(lua_newuserdatauv(L, sizeof(RedisBox), 0));
  b->r = nullptr;  // closed until connected (liolib's rule)
  luaL_setmetatable(L, kRedisMeta);
  return protect(L, [&] {
    b->r = cluster::Redis::connect(cluster::RedisUrl::parse(url), {timeout, -1}).release();
    return 1;
  });
}

// conn:call(cmd, ...) -> the reply (arrays as tables, nil inside them as
// false), or nil and the message of an error reply. conn:call_block(s,
// cmd, ...) allows the server `s` more seconds (BLPOP, XREAD BLOCK).
int redis_call_impl(lua_State* L, int first, double block) {
  auto* b = static_cast<RedisBox*>(luaL_checkudata(L, 1, kRedisMeta));
  if (!b->r) raise_error(L, ErrorKind::InvalidState, "the connection is closed");
  int n = lua_gettop(L);
  for (int i = first; i <= n; ++i) {  // numbers to strings, before any C++ object exists
    luaL_tolstring(L, i, nullptr);
    lua_replace(L, i);
  }
  return protect(L, [&] {
    std::vector<std::string_view> args;
    for (int i = first; i <= n; ++i) {
      size_t len;
      const char* s = lua_tolstring(L, i, &len);
      args.emplace_back(s, len);
    }
    b->r->append(args);
    cluster::Reply r = b->r->read(block);
    if (r.is_error()) {
      lua_pushnil(L);
      lua_pushlstring(L, r.str.data(), r.str.size());
      return 2;
    }
    push_reply(L, r, false);
    return 1;
  });
}

int redis_call(lua_State* L) { return redis_call_impl(L, 2, 0); }
int redis_call_block(lua_State* L) { return redis_call_impl(L, 3, luaL_checknumber(L, 2)); }

const luaL_Reg kMethods[] = {{"submit", m_submit},       {"shutdown", m_shutdown}, {"close", m_close},
                             {"join", m_join},           {"terminate", m_terminate}, {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__tostring", pool_tostring}, {"__close", pool_close}, {nullptr, nullptr}};
const luaL_Reg kFunctions[] = {{"Pool", l_Pool}, {"redis", l_redis}, {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(Client::kTypeName, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide__cluster(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  install_class(L, Client::kTypeName, kModule, kMethods, pool_getter, kMeta);
  // The raw connection's methods.
  luaL_newmetatable(L, kRedisMeta);
  lua_pushcfunction(L, redis_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, redis_gc);
  lua_setfield(L, -2, "__close");
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, redis_call);
  lua_setfield(L, -2, "call");
  lua_pushcfunction(L, redis_call_block);
  lua_setfield(L, -2, "call_block");
  lua_pushcfunction(L, redis_gc);
  lua_setfield(L, -2, "close");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, kFunctions);
  // The methods table, for tide.cluster to add map, imap, apply...
  luaL_getmetatable(L, Client::kTypeName);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 2);
  lua_setfield(L, -4, "methods");
  lua_pop(L, 2);
  return 1;
}
