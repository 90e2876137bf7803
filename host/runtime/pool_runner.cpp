#include "runtime/pool_runner.hpp"

#include <unordered_map>

#include "codec/codec.hpp"
#include "core/log.hpp"
#include "luabase/protect.hpp"
#include "runtime/run_call.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "shm/stored_message.hpp"

namespace tide::runtime {

namespace {

constexpr const char* kFnCache = "tide.pool.functions";
constexpr std::size_t kCacheMax = 256;

using BlobPtr = std::shared_ptr<const pool::FunctionBlob>;
// The blobs a state's cache is keyed by, kept alive so no address is reused.
using Pinned = std::unordered_map<const pool::FunctionBlob*, BlobPtr>;

struct Lookup {
  const pool::Task* task;
  Pinned* pinned;
  std::size_t* stored_count;  // cached StoredFunctions
};

void new_cache(lua_State* L) {
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kFnCache);
}

// Slot 1 holds the cache table (made if missing). Starts over rather than
// track use when it holds kCacheMax functions.
void open_cache(lua_State* L, Lookup& lk) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kFnCache) != LUA_TTABLE) {
    lua_pop(L, 1);
    new_cache(L);
  }
  if (lk.pinned->size() + *lk.stored_count >= kCacheMax) {
    lk.pinned->clear();
    *lk.stored_count = 0;
    lua_settop(L, 0);
    new_cache(L);
  }
}

// Under lua_pcall: pushes the task's function, from the cache when it is
// cacheable, decoding (and caching) it otherwise.
int push_function(lua_State* L) {
  auto* lk = static_cast<Lookup*>(lua_touserdata(L, 1));
  const pool::Task& task = *lk->task;
  lua_settop(L, 0);
  if (task.stored_fn) {  // a process worker's: from the arena
    const pool::StoredFunction& sf = pool::function_at(task.stored_fn);
    auto decode = [&] {
      Message m = shm::load_message(sf.message);
      return codec::decode(L, m);
    };
    if (sf.id == 0) return protect(L, decode);
    open_cache(L, *lk);
    auto key = static_cast<lua_Integer>(sf.id);
    if (lua_rawgeti(L, 1, key) == LUA_TFUNCTION) return 1;
    lua_settop(L, 1);
    protect(L, decode);
    ++*lk->stored_count;
    lua_pushvalue(L, -1);
    lua_rawseti(L, 1, key);
    return 1;
  }
  const pool::FunctionBlob& blob = *task.fn;
  if (!blob.cacheable) return protect(L, [&] { return codec::decode(L, blob.message); });
  open_cache(L, *lk);
  if (lua_rawgetp(L, 1, &blob) == LUA_TFUNCTION) return 1;
  lua_settop(L, 1);
  protect(L, [&] {
    codec::decode(L, blob.message);
    lk->pinned->emplace(&blob, task.fn);
    return 0;
  });
  lua_pushvalue(L, -1);
  lua_rawsetp(L, 1, &blob);
  return 1;
}

class LuaRunner final : public pool::TaskRunner {
 public:
  // Owns a fresh state.
  explicit LuaRunner(std::shared_ptr<const Message> init) : init_(std::move(init)), L_(new_state()), owned_(true) {
    set_thread_state(L_);
    install_sanitizer_cancel_check(L_);
  }
  // Borrows `L`.
  explicit LuaRunner(lua_State* L) : L_(L), owned_(false) {}
  ~LuaRunner() override {
    if (!owned_) return;
    set_thread_state(nullptr);
    lua_close(L_);
  }

  Outcome init() noexcept override {
    if (!init_) return Outcome{};
    Outcome out = run_call(L_, *init_);
    init_.reset();
    return out;
  }

  Outcome run(const pool::Task& task) noexcept override {
    int base = lua_gettop(L_);
    Lookup lk{&task, &pinned_, &stored_count_};
    lua_pushcfunction(L_, push_function);
    lua_pushlightuserdata(L_, &lk);
    Outcome out;
    if (lua_pcall(L_, 1, 1, 0) == LUA_OK) {
      out = call_function(L_, base + 1, task.args);
    } else {
      out.state = CompletionState::Failed;
      out.failure_kind = ErrorKind::TransferError;
      const char* msg = lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "?";
      if (lua_istable(L_, -1) && lua_getfield(L_, -1, "message") == LUA_TSTRING) msg = lua_tostring(L_, -1);
      out.text = std::string("failed: its function could not be received: ") + msg;
    }
    lua_settop(L_, base);
    return out;
  }

  // The function the state registered under kFinalizer (an actor's
  // __pre_destroy, bindings/actor.cpp), called once with no arguments.
  void finish() noexcept override {
    int base = lua_gettop(L_);
    if (lua_getfield(L_, LUA_REGISTRYINDEX, kFinalizer) == LUA_TFUNCTION) {
      lua_pushnil(L_);
      lua_setfield(L_, LUA_REGISTRYINDEX, kFinalizer);
      Outcome out = call_function(L_, base + 1, Message{});
      if (out.state == CompletionState::Failed)
        log::error("{}{}{}", out.text, out.traceback.empty() ? "" : "\n", out.traceback);
    }
    lua_settop(L_, base);
  }

 private:
  std::shared_ptr<const Message> init_;
  lua_State* L_;
  bool owned_;
  Pinned pinned_;
  std::size_t stored_count_ = 0;
};

}  // namespace

pool::RunnerFactory runner_factory(std::shared_ptr<const Message> initializer) {
  return [initializer] { return std::make_unique<LuaRunner>(initializer); };
}

std::unique_ptr<pool::TaskRunner> borrowed_runner(lua_State* L) { return std::make_unique<LuaRunner>(L); }

}  // namespace tide::runtime
