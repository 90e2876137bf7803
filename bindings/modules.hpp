// The native tide modules, opened through package.preload in every state.
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
int luaopen_tide_signal(lua_State* L);
int luaopen_tide_subprocess(lua_State* L);
}

namespace tide {
// {name, opener}, ending with {nullptr, nullptr}.
extern const luaL_Reg kNativeModules[];

// sleep(seconds), shared by tide and tide.thread.
int lua_sleep(lua_State* L);
}  // namespace tide
