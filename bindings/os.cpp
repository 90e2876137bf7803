// tide.os (API.md §11): Python's os process and descriptor calls, with
// errors as OSError carrying errno. Blocking calls (waitpid, read, write)
// go through the one wait path: cancellable and SIGINT-interruptible.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/signal_names.hpp"
#include "core/sigpipe.hpp"
#include "core/wait.hpp"
#include "modules.hpp"
#include "process/children.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"

namespace tide {
namespace {

// pid_t and flag arguments must fit an int: a wrapped 4294967295 would
// become kill(-1, ...), every process the user owns.
int check_int32(lua_State* L, int arg) {
  lua_Integer v = check_integer(L, arg);
  if (v < INT32_MIN || v > INT32_MAX) arg_error(L, arg, "value out of range");
  return static_cast<int>(v);
}

int check_fd(lua_State* L, int arg) {
  lua_Integer fd = check_integer(L, arg);
  if (fd < 0 || fd > 0x7fffffff) arg_error(L, arg, "file descriptor out of range");
  return static_cast<int>(fd);
}

int l_fork(lua_State* L) {
  return protect(L, [&] {
    std::fflush(nullptr);  // or the child would print the parent's buffered output again
    pid_t pid = fork();
    if (pid < 0) throw_os_error("fork", errno);
    lua_pushinteger(L, pid);
    return 1;
  });
}

int l_waitpid(lua_State* L) {
  int pid = check_int32(L, 1);
  int flags = lua_isnoneornil(L, 2) ? 0 : check_int32(L, 2);
  return protect(L, [&] {
    int status = 0;
    pid_t r = process::wait_child(static_cast<pid_t>(pid), &status, static_cast<int>(flags),
                                  Deadline::never());
    lua_pushinteger(L, r);
    lua_pushinteger(L, r == 0 ? 0 : status);
    return 2;
  });
}

int l_waitstatus_to_exitcode(lua_State* L) {
  int status = check_int32(L, 1);
  if (WIFEXITED(status)) {
    lua_pushinteger(L, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    lua_pushinteger(L, -WTERMSIG(status));
  } else {
    arg_error(L, 1, lua_pushfstring(L, "invalid wait status: %d", status));
  }
  return 1;
}

int l_exit(lua_State* L) {
  int code = lua_isnoneornil(L, 1) ? 0 : static_cast<int>(check_integer(L, 1));
  std::fflush(nullptr);  // print() output before _exit is what a script means to keep
  _exit(code);
}

int l_pipe(lua_State* L) {
  return protect(L, [&] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw_os_error("pipe", errno);
    lua_pushinteger(L, fds[0]);
    lua_pushinteger(L, fds[1]);
    return 2;
  });
}

// Waits until fd is ready, then runs op; EBADF and friends become OSError.
template <class Op>
ssize_t ready_then(int fd, short events, const char* what, Op op) {
  for (;;) {
    short revents = wait_fd(fd, events, Deadline::never());
    if (revents & POLLNVAL) throw_os_error(what, EBADF);
    ssize_t r = op();
    if (r >= 0) return r;
    if (errno != EAGAIN && errno != EINTR) throw_os_error(what, errno);
  }
}

int l_read(lua_State* L) {
  int fd = check_fd(L, 1);
  lua_Integer n = check_integer(L, 2);
  if (n < 0) arg_error(L, 2, "size must not be negative");
  return protect(L, [&] {
    // Like Python's os.read, return what one read() gives; a huge n must
    // not allocate (and touch) that much memory up front.
    std::string buf(static_cast<size_t>(std::min<lua_Integer>(n, 1 << 20)), '\0');
    ssize_t r = n == 0 ? 0 : ready_then(fd, POLLIN, "read", [&] { return read(fd, buf.data(), buf.size()); });
    lua_pushlstring(L, buf.data(), static_cast<size_t>(r));
    return 1;
  });
}

int l_write(lua_State* L) {
  int fd = check_fd(L, 1);
  size_t len;
  const char* s = check_string(L, 2, &len);
  return protect(L, [&] {
    // EPIPE (the reader is gone) is an OSError, never SIGPIPE (core/sigpipe.hpp).
    ssize_t r = len == 0 ? 0 : ready_then(fd, POLLOUT, "write", [&] { return write_nosigpipe(fd, s, len); });
    lua_pushinteger(L, r);
    return 1;
  });
}

int l_close(lua_State* L) {
  int fd = check_fd(L, 1);
  return protect(L, [&] {
    if (close(fd) != 0 && errno != EINTR) throw_os_error("close", errno);
    return 0;
  });
}

int l_getpid(lua_State* L) {
  lua_pushinteger(L, getpid());
  return 1;
}

int l_getppid(lua_State* L) {
  lua_pushinteger(L, getppid());
  return 1;
}

int l_kill(lua_State* L) {
  int pid = check_int32(L, 1);
  int sig = check_signal(L, 2);
  return protect(L, [&] {
    if (kill(static_cast<pid_t>(pid), sig) != 0) throw_os_error("kill", errno);
    return 0;
  });
}

const luaL_Reg kFunctions[] = {{"fork", l_fork},
                               {"waitpid", l_waitpid},
                               {"waitstatus_to_exitcode", l_waitstatus_to_exitcode},
                               {"_exit", l_exit},
                               {"pipe", l_pipe},
                               {"read", l_read},
                               {"write", l_write},
                               {"close", l_close},
                               {"getpid", l_getpid},
                               {"getppid", l_getppid},
                               {"kill", l_kill},
                               {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_os(lua_State* L) {
  tide::runtime::install(L);
  tide::process::watch_children();
  luaL_newlib(L, tide::kFunctions);
  lua_pushinteger(L, WNOHANG);
  lua_setfield(L, -2, "WNOHANG");
  return 1;
}
