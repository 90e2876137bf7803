// The native tide modules. register_modules() hands them to the runtime
// (runtime::register_module, as an embedder's modules are), which opens them
// through package.preload in every state. Whatever starts tide calls it
// first: the command, tide.so's entry, the test programs.
#pragma once
#include <lua.hpp>

extern "C" {
int tide_open_root(lua_State* L);
int luaopen_tide_thread(lua_State* L);
int luaopen_tide_log(lua_State* L);
int luaopen_tide_queue(lua_State* L);
int luaopen_tide_os(lua_State* L);
int luaopen_tide_sync(lua_State* L);
int luaopen_tide_shared(lua_State* L);
int luaopen_tide_future(lua_State* L);
int luaopen_tide__pool(lua_State* L);
int luaopen_tide_pipe(lua_State* L);
int luaopen_tide_process(lua_State* L);
int luaopen_tide__async(lua_State* L);
int luaopen_tide_signal(lua_State* L);
int luaopen_tide_subprocess(lua_State* L);
int luaopen_tide__cluster(lua_State* L);
int luaopen_tide_actor(lua_State* L);
}

namespace tide::bindings {
// Idempotent and thread-safe.
void register_modules();
}  // namespace tide::bindings

namespace tide {

// sleep(seconds), shared by tide and tide.thread.
int l_sleep(lua_State* L);
}  // namespace tide
