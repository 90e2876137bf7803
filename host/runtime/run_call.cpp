#include "runtime/run_call.hpp"

#include "codec/codec.hpp"
#include "core/log.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "luabase/error.hpp"
#include "luabase/protect.hpp"

namespace tide::runtime {

namespace {

struct Call {
  const Message* payload;  // the arguments, after the function unless fn
  Message* results;
  bool fn = false;  // the function is the pcall's second argument
  bool portable = false;
};

// Runs under lua_pcall: decode, call, encode. Codec failures surface as
// TransferError objects through protect(), so the caller sees one error path.
int call_main(lua_State* L) {
  auto* call = static_cast<Call*>(lua_touserdata(L, 1));
  lua_remove(L, 1);
  if (!call->fn) lua_settop(L, 0);
  int n = protect(L, [&] { return codec::decode(L, *call->payload); });
  lua_call(L, call->fn ? n : n - 1, LUA_MULTRET);
  int nres = lua_gettop(L);
  protect(L, [&] {
    codec::encode(L, 1, nres, *call->results, {"return value", 1, call->portable});
    return 0;
  });
  return 0;
}

// Keeps the error value as it is (it may be any value) and records the
// traceback beside it in the registry.
int error_handler(lua_State* L) {
  luaL_traceback(L, L, nullptr, 1);
  if (is_error(L, 1)) {
    lua_getfield(L, 1, "traceback");
    bool empty = !lua_tostring(L, -1) || !*lua_tostring(L, -1);
    lua_pop(L, 1);
    if (empty) {
      lua_pushvalue(L, -1);
      lua_setfield(L, 1, "traceback");
    }
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "tide.traceback");
  lua_settop(L, 1);
  return 1;
}

int safe_tostring(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  return 1;
}

class LuaCall final : public ThreadBody {
 public:
  explicit LuaCall(Message payload) : payload_(std::move(payload)) {}

  Outcome run(Thread&) noexcept override {
    lua_State* L = nullptr;
    try {
      L = new_state();
    } catch (const std::exception& e) {
      return Outcome{CompletionState::Failed, {}, e.what(), {}};
    }
    set_thread_state(L);
    install_sanitizer_cancel_check(L);
    Outcome out = run_call(L, payload_);
    set_thread_state(nullptr);
    payload_.clear();
    lua_close(L);
    return out;
  }

 private:
  Message payload_;
};

}  // namespace

namespace {

// The function (if fn_slot) and the payload run as call_main describes.
Outcome run(lua_State* L, const Message& payload, int fn_slot, bool portable) noexcept {
  Outcome out;
  Call call{&payload, &out.values, fn_slot != 0, portable};
  int base = lua_gettop(L);
  lua_pushnil(L);  // an error that skips the handler must not show an old traceback
  lua_setfield(L, LUA_REGISTRYINDEX, "tide.traceback");
  lua_pushcfunction(L, error_handler);
  lua_pushcfunction(L, call_main);
  lua_pushlightuserdata(L, &call);
  if (fn_slot) lua_pushvalue(L, fn_slot);
  if (lua_pcall(L, fn_slot ? 2 : 1, 0, base + 1) == LUA_OK) {
    out.state = CompletionState::Completed;
    lua_settop(L, base);
    return out;
  }
  // The error value is on top; describe it and carry it back if it can cross.
  out.state = CompletionState::Failed;
  out.values.clear();
  int err = lua_gettop(L);
  lua_pushcfunction(L, safe_tostring);
  lua_pushvalue(L, err);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
    size_t len;
    const char* text = lua_tolstring(L, -1, &len);
    out.text.assign(text, len);  // every byte: an error message may hold zeros
  } else
    out.text = std::string("(error object is a ") + luaL_typename(L, err) + " value)";
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "tide.traceback") == LUA_TSTRING) out.traceback = lua_tostring(L, -1);
  lua_pop(L, 1);
  try {
    codec::encode(L, err, 1, out.values, {"error value", 0, portable});
  } catch (const std::exception& e) {
    out.values.clear();
    log::debug("error value cannot be carried back: {}", e.what());
  }
  lua_settop(L, base);
  return out;
}

}  // namespace

Outcome run_call(lua_State* L, const Message& payload) noexcept { return run(L, payload, 0, false); }

Outcome call_function(lua_State* L, int fn, const Message& args, bool portable) noexcept {
  return run(L, args, lua_absindex(L, fn), portable);
}

std::unique_ptr<ThreadBody> make_call_body(Message payload) {
  return std::make_unique<LuaCall>(std::move(payload));
}

}  // namespace tide::runtime
