#include "runtime/cluster_executor.hpp"

#include <string>
#include <unordered_map>

#include "codec/codec.hpp"
#include "luabase/protect.hpp"
#include "runtime/run_call.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"

namespace tide::runtime {

namespace {

constexpr std::size_t kCacheMax = 256;  // functions kept per worker state

struct Push {
  const cluster::Entry* task;
  int ref = LUA_NOREF;  // the function's registry reference, when cacheable
};

// Under lua_pcall: decodes the task's function (and pins a cacheable one).
int decode_function(lua_State* L) {
  auto* p = static_cast<Push*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  protect(L, [&] { return codec::decode_bytes(L, p->task->fn, 1); });
  if (!lua_isfunction(L, 1)) return luaL_error(L, "not a function");
  if (p->task->cacheable) {
    lua_pushvalue(L, 1);
    p->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return 1;
}

class LuaExecutor final : public cluster::Executor {
 public:
  LuaExecutor() : L_(new_state()) {
    set_thread_state(L_);
    install_sanitizer_cancel_check(L_);
  }
  ~LuaExecutor() override {
    set_thread_state(nullptr);
    lua_close(L_);
  }

  Outcome run(const cluster::Entry& task, const std::string&) noexcept override {
    int base = lua_gettop(L_);
    Outcome out;
    if (push_function(task, out)) {
      Message args;
      args.bytes = task.args;
      args.count = static_cast<int>(task.nargs);
      out = call_function(L_, base + 1, args, true);
    }
    lua_settop(L_, base);
    return out;
  }

 private:
  // Pushes the task's function (cached by its bytes when cacheable);
  // false with `out` set when it cannot be decoded.
  bool push_function(const cluster::Entry& task, Outcome& out) noexcept {
    if (task.cacheable) {
      if (auto it = cache_.find(task.fn); it != cache_.end()) {
        lua_rawgeti(L_, LUA_REGISTRYINDEX, it->second);
        return true;
      }
    }
    Push p{&task};
    lua_pushcfunction(L_, decode_function);
    lua_pushlightuserdata(L_, &p);
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) {
      out.state = CompletionState::Failed;
      out.failure_kind = ErrorKind::TransferError;
      const char* msg = lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "?";
      if (lua_istable(L_, -1) && lua_getfield(L_, -1, "message") == LUA_TSTRING) msg = lua_tostring(L_, -1);
      out.text = std::string("failed: its function could not be received: ") + msg;
      return false;
    }
    if (p.ref != LUA_NOREF) {
      try {
        if (cache_.size() >= kCacheMax) {  // start over rather than track use
          for (auto& [bytes, ref] : cache_) luaL_unref(L_, LUA_REGISTRYINDEX, ref);
          cache_.clear();
        }
        cache_.emplace(task.fn, p.ref);
      } catch (...) {  // out of memory: run it uncached
        luaL_unref(L_, LUA_REGISTRYINDEX, p.ref);
      }
    }
    return true;
  }

  lua_State* L_;
  std::unordered_map<std::string, int> cache_;  // function bytes -> registry ref
};

}  // namespace

cluster::ExecutorFactory cluster_executor_factory() {
  install_process_handlers();  // cancellation of running tasks (hard stop)
  return [] { return std::make_unique<LuaExecutor>(); };
}

const char* cluster_lua_version() noexcept { return LUA_VERSION; }

}  // namespace tide::runtime
