// tide._async's part for async.subprocess (lua/tide/async.subprocess.lua):
// non-waiting steps on tide.subprocess's Popen and Streams, so the loop
// does the waiting (for the pidfd or the pipe) and other tasks run
// meanwhile. Bad input raises ArgumentError; a released or closed object
// InvalidState, as the Stream's own methods do.
#include "async_subprocess.hpp"

#include "luabase/protect.hpp"
#include "subprocess.hpp"
#include "support/args.hpp"

namespace tide::sub {
namespace {

subprocess::Stream* arg_stream(lua_State* L, int idx) {
  if (!luaL_testudata(L, idx, kStreamMeta)) type_error(L, idx, kStreamMeta);
  subprocess::Stream* s = test_stream(L, idx);
  if (!s) raise_error(L, ErrorKind::InvalidState, "%s is released", kStreamMeta);
  return s;
}

// popen_exit_fd(p) -> the child's pidfd (readable once it has ended), or -1.
int l_popen_exit_fd(lua_State* L) {
  Job* job = check_job(L, 1);
  lua_pushinteger(L, job->child ? job->child->pidfd() : -1);
  return 1;
}

// popen_kill_and_reap(p): SIGKILL (to its group with new_session) and
// reap, in a bounded wait that neither Ctrl-C nor cancellation interrupts
// (the cleanup of a run that did not finish).
int l_popen_kill_and_reap(lua_State* L) {
  Job* job = check_job(L, 1);
  if (job->child) job->child->kill_and_reap();
  return 0;
}

// stream_read_some(s, max) -> up to max bytes; nil at the end; false when
// a read would wait.
int l_stream_read_some(lua_State* L) {
  subprocess::Stream* s = arg_stream(L, 1);
  lua_Integer max = check_integer(L, 2);
  if (max <= 0) arg_error(L, 2, "size must be positive");
  return protect(L, [&] {
    auto v = s->read_some(static_cast<std::size_t>(max));
    if (!v)
      lua_pushnil(L);
    else if (v->empty())
      lua_pushboolean(L, 0);
    else
      lua_pushlstring(L, v->data(), v->size());
    return 1;
  });
}

// stream_write_some(s, data, from) -> the bytes of data[from..] written
// now (0 when the pipe is full).
int l_stream_write_some(lua_State* L) {
  subprocess::Stream* s = arg_stream(L, 1);
  std::size_t len = 0;
  const char* data = check_string(L, 2, &len);
  lua_Integer from = check_integer(L, 3);
  if (from < 1 || static_cast<std::size_t>(from) > len + 1) arg_error(L, 3, "position out of range");
  return protect(L, [&] {
    std::size_t skip = static_cast<std::size_t>(from - 1);
    lua_pushinteger(L, static_cast<lua_Integer>(s->write_some(std::string_view(data + skip, len - skip))));
    return 1;
  });
}

const luaL_Reg kFunctions[] = {{"popen_exit_fd", l_popen_exit_fd},
                               {"popen_kill_and_reap", l_popen_kill_and_reap},
                               {"stream_read_some", l_stream_read_some},
                               {"stream_write_some", l_stream_write_some},
                               {nullptr, nullptr}};

}  // namespace

void add_async_subprocess_functions(lua_State* L) { luaL_setfuncs(L, kFunctions, 0); }

}  // namespace tide::sub
