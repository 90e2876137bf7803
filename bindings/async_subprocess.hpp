// tide._async's functions for async.subprocess (async_subprocess.cpp).
#pragma once
#include <lua.hpp>

namespace tide::sub {

// Adds popen_exit_fd, popen_kill_and_reap, stream_read_some and stream_write_some to the table
// on top of the stack.
void add_async_subprocess_functions(lua_State* L);

}  // namespace tide::sub
