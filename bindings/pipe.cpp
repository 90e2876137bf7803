// tide.pipe (API.md §8): Pipe, Connection, wait, fifo, open. Values are
// encoded with the transfer codec here and framed by host/pipe; a single
// string is sent as a raw bytes frame (no codec work, and recv_bytes can
// take it).
//
// Extensions: send(v1, v2, ...) sends several values as one message and
// recv returns them all; recv_bytes([maxlen], [timeout]); open(path, mode,
// [timeout]); fifo(path, [mode]); fields `readable`, `writable`.
// Errors: use after close() in this process is InvalidState (API.md §0);
// the peer being gone is Closed (recv at end of stream, send on EPIPE).
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "pipe/connection.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"

namespace tide {
namespace {

using pipe::Connection;
using pipe::FrameKind;
using pipe::Received;
using sync_binding::self;

// Per-OS-thread scratch reused by every send/recv (no allocation per
// message once grown); a nested use (a __gc finalizer sending while a
// message is encoded) gets its own.
template <class T>
class Scratch {
 public:
  Scratch() : v_(t_busy ? &own_ : &t_value) { here_ = !t_busy; t_busy = true; }
  ~Scratch() {
    reset(*v_);
    if (here_) t_busy = false;
  }
  T& get() { return *v_; }

 private:
  static void reset(Message& m) { m.clear(); }
  static void reset(Received& r) {
    if (r.payload.capacity() > (1u << 20)) std::string().swap(r.payload);  // do not keep a big message's room
    r.payload.clear();
    r.message.clear();
  }
  static thread_local T t_value;
  static thread_local bool t_busy;
  T own_;
  T* v_;
  bool here_;
};
template <class T>
thread_local T Scratch<T>::t_value;
template <class T>
thread_local bool Scratch<T>::t_busy = false;

// Pushes what recv got; returns the number of values.
int push_received(lua_State* L, const Received& r) {
  switch (r.kind) {
    case FrameKind::Bytes:
      lua_pushlstring(L, r.payload.data(), r.payload.size());
      return 1;
    case FrameKind::Value:
      if (!lua_checkstack(L, r.count + 5)) throw Error(ErrorKind::TransferError, "too many values for the Lua stack");
      return codec::decode_bytes(L, r.payload, r.count);
    case FrameKind::Ticket:
      if (!lua_checkstack(L, r.message.count + 5))
        throw Error(ErrorKind::TransferError, "too many values for the Lua stack");
      return codec::decode(L, r.message);
    case FrameKind::Wake:  // never a message: recv drops them
      break;
  }
  return 0;
}

// conn:send(value, ...)
int m_send(lua_State* L) {
  runtime::run_due_callbacks(L);
  Connection* c = self<Connection>(L);
  int n = lua_gettop(L) - 1;
  if (n < 1) arg_error(L, 2, "value expected");
  return protect(L, [&] {
    if (n == 1 && lua_type(L, 2) == LUA_TSTRING) {
      size_t len;
      const char* s = lua_tolstring(L, 2, &len);
      c->send_frame(FrameKind::Bytes, 1, std::string_view(s, len));
      return 0;
    }
    Scratch<Message> m;
    codec::encode(L, 2, n, m.get(), {"argument", 1});
    c->send_message(m.get());
    return 0;
  });
}

// conn:send_bytes(s)
int m_send_bytes(lua_State* L) {
  runtime::run_due_callbacks(L);
  Connection* c = self<Connection>(L);
  size_t len;
  const char* s = check_string(L, 2, &len);
  return protect(L, [&] {
    c->send_frame(FrameKind::Bytes, 1, std::string_view(s, len));
    return 0;
  });
}

[[noreturn]] void throw_timeout() { throw Error(ErrorKind::Timeout, "no message arrived in time"); }

// conn:recv([timeout]) -> the values sent
int m_recv(lua_State* L) {
  runtime::run_due_callbacks(L);
  Connection* c = self<Connection>(L);
  Deadline d = check_timeout(L, 2);
  lua_settop(L, 1);
  return protect(L, [&] {
    Scratch<Received> r;
    if (!c->recv(r.get(), d)) throw_timeout();
    return push_received(L, r.get());
  });
}

// conn:recv_bytes([maxlen], [timeout]) -> string
int m_recv_bytes(lua_State* L) {
  runtime::run_due_callbacks(L);
  Connection* c = self<Connection>(L);
  std::size_t maxlen = pipe::kMaxPayload;
  if (!lua_isnoneornil(L, 2)) {
    lua_Integer m = check_integer(L, 2);
    if (m < 0) arg_error(L, 2, "maxlen must not be negative");
    if (static_cast<lua_Unsigned>(m) < maxlen) maxlen = static_cast<std::size_t>(m);
  }
  Deadline d = check_timeout(L, 3);
  lua_settop(L, 1);
  return protect(L, [&] {
    Scratch<Received> r;
    if (!c->recv(r.get(), d, maxlen, true)) throw_timeout();
    return push_received(L, r.get());
  });
}

// conn:poll([timeout]) -> boolean. As in Python, no argument does not
// block, and an explicit nil waits forever (API.md §0).
int m_poll(lua_State* L) {
  runtime::run_due_callbacks(L);
  Connection* c = self<Connection>(L);
  Deadline d = lua_isnone(L, 2) ? Deadline::after(0) : check_timeout(L, 2);
  return protect(L, [&] {
    lua_pushboolean(L, c->poll(d));
    return 1;
  });
}

int m_close(lua_State* L) {
  self<Connection>(L)->close();
  return 0;
}

int m_fileno(lua_State* L) {
  Connection* c = self<Connection>(L);
  return protect(L, [&] {
    lua_pushinteger(L, c->fileno());
    return 1;
  });
}

// Fields: closed, readable, writable.
int getter(lua_State* L) {
  Connection* c = check_object<Connection>(L, 1);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  if (std::strcmp(key, "closed") == 0) {
    lua_pushboolean(L, c->closed());
    return 1;
  }
  if (std::strcmp(key, "readable") == 0) {
    lua_pushboolean(L, c->readable());
    return 1;
  }
  if (std::strcmp(key, "writable") == 0) {
    lua_pushboolean(L, c->writable());
    return 1;
  }
  return 0;
}

int connection_tostring(lua_State* L) {
  Connection* c = self<Connection>(L);
  const char* dir = c->readable() && c->writable() ? "duplex" : c->readable() ? "read" : "write";
  lua_pushfstring(L, "tide.Connection (%s, %s)", dir, c->closed() ? "closed" : "open");
  return 1;
}

// pipe.Pipe([duplex=true]) -> a, b
int l_Pipe(lua_State* L) {
  bool duplex = opt_boolean(L, 1, true);
  return protect(L, [&] {
    auto [a, b] = Connection::create_pair(duplex);
    push_handle(L, a.get());
    push_handle(L, b.get());
    return 2;
  });
}

Connection* test_connection(lua_State* L, int idx) {
  auto* h = static_cast<Handle*>(luaL_testudata(L, idx, Connection::kTypeName));
  return h ? static_cast<Connection*>(h->obj) : nullptr;
}

// pipe.wait(conns, [timeout]) -> array of the ready connections (empty at the timeout)
int l_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  check_table(L, 1);
  Deadline d = check_timeout(L, 2);
  auto n = static_cast<lua_Integer>(lua_rawlen(L, 1));
  if (n == 0) arg_error(L, 1, "empty list of connections");
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 1, i);
    if (!test_connection(L, -1))
      arg_error(L, 1, lua_pushfstring(L, "item %I is a %s, not an open connection", static_cast<LUAI_UACINT>(i),
                                      luaL_typename(L, -1)));
    lua_pop(L, 1);
  }
  return protect(L, [&] {
    std::vector<Connection*> conns;  // kept alive by the handles in the list
    conns.reserve(static_cast<std::size_t>(n));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, 1, i);
      conns.push_back(test_connection(L, -1));
      lua_pop(L, 1);
    }
    std::vector<std::size_t> ready = pipe::wait_ready(conns, d);
    lua_createtable(L, static_cast<int>(ready.size()), 0);
    for (std::size_t i = 0; i < ready.size(); ++i) {
      lua_rawgeti(L, 1, static_cast<lua_Integer>(ready[i]) + 1);
      lua_rawseti(L, -2, static_cast<lua_Integer>(i) + 1);
    }
    return 1;
  });
}

// pipe.fifo(path, [mode=0600]): creates a named pipe
int l_fifo(lua_State* L) {
  const char* path = check_path(L, 1);
  lua_Integer mode = lua_isnoneornil(L, 2) ? 0600 : check_integer(L, 2);
  if (mode < 0 || mode > 07777) arg_error(L, 2, "mode must be a permission mask such as 384 (0600)");
  return protect(L, [&] {
    if (mkfifo(path, static_cast<mode_t>(mode)) != 0) throw_os_error((std::string("mkfifo ") + path).c_str(), errno);
    return 0;
  });
}

// pipe.open(path, "r" | "w", [timeout]) -> connection
int l_open(lua_State* L) {
  const char* path = check_path(L, 1);
  const char* mode = check_string(L, 2);
  bool write = std::strcmp(mode, "w") == 0;
  if (!write && std::strcmp(mode, "r") != 0) arg_error(L, 2, "mode must be \"r\" or \"w\"");
  Deadline d = check_timeout(L, 3);
  return protect(L, [&] {
    Ref<Connection> c = Connection::open_fifo(path, write, d);
    push_handle(L, c.get());
    return 1;
  });
}

[[maybe_unused]] const bool kHandleTypes = [] {
  register_handle_type(Connection::kTypeName, "tide.pipe");
  return true;
}();

const luaL_Reg kMethods[] = {{"send", m_send},   {"recv", m_recv},     {"send_bytes", m_send_bytes},
                             {"recv_bytes", m_recv_bytes}, {"poll", m_poll}, {"close", m_close},
                             {"fileno", m_fileno}, {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__close", m_close}, {"__tostring", connection_tostring}, {nullptr, nullptr}};
const luaL_Reg kFunctions[] = {{"Pipe", l_Pipe}, {"wait", l_wait}, {"fifo", l_fifo}, {"open", l_open},
                               {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_pipe(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  sync_binding::install_class(L, Connection::kTypeName, "tide.pipe", kMethods, getter, kMeta);
  luaL_newlib(L, kFunctions);
  return 1;
}
