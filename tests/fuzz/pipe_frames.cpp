// libFuzzer target for tide.pipe's receiving side: arbitrary bytes are
// (1) split into frames by the frame reader, each frame's values decoded
// as a connection's recv would, and (2) written into a real connection
// whose peer is then closed, and received until the connection reports
// the end: every outcome must be a frame, Closed, or TransferError (which
// closes the connection), never a crash, hang or leak.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <lua.hpp>
#include <string>
#include <string_view>

#include "codec/codec.hpp"
#include "core/error.hpp"
#include "pipe/connection.hpp"
#include "pipe/frame.hpp"
#include "shm/arena.hpp"

namespace {

lua_State* g_state = nullptr;
int g_runs = 0;

lua_State* state() {
  if (!g_state || ++g_runs % 5000 == 0) {  // a fresh state now and then
    if (g_state) lua_close(g_state);
    g_state = luaL_newstate();
    if (!g_state) std::abort();
    luaL_openlibs(g_state);
    if (luaL_dostring(g_state, "package.path, package.cpath = '', ''") != LUA_OK) std::abort();
  }
  return g_state;
}

void decode_frame(lua_State* L, tide::pipe::FrameKind kind, std::uint32_t count, std::string_view payload) {
  if (kind != tide::pipe::FrameKind::Value || count > 64) return;
  lua_settop(L, 0);
  try {
    if (tide::codec::decode_bytes(L, payload, static_cast<int>(count)) != static_cast<int>(count)) std::abort();
  } catch (const tide::Error& e) {
    if (e.kind() != tide::ErrorKind::TransferError || lua_gettop(L) != 0) std::abort();
  }
  lua_settop(L, 0);
}

// (1) The frame reader on the bytes as one buffer.
void parse_all(lua_State* L, const char* p, std::size_t n) {
  using namespace tide::pipe;
  while (n > 0) {
    ParsedFrame f;
    Parse r = parse_frame(p, n, f);
    if (r != Parse::Frame) return;
    if (f.total > n || f.total < kHeaderSize) std::abort();
    decode_frame(L, f.kind, f.count, std::string_view(f.payload, f.length));
    p += f.total;
    n -= f.total;
  }
}

// (2) The same bytes through a connection (short inputs: they fit the
// socket buffer, so one write and no second thread).
void through_connection(lua_State* L, const char* p, std::size_t n) {
  using namespace tide::pipe;
  auto [a, b] = Connection::create_pair(true);
  if (n && write(a->fileno(), p, n) != static_cast<ssize_t>(n)) std::abort();
  a->close();
  for (int i = 0; i < 100000; ++i) {
    Received r;
    try {
      if (!b->recv(r, tide::Deadline::never())) std::abort();  // no deadline: never a timeout
    } catch (const tide::Error& e) {
      if (e.kind() == tide::ErrorKind::Closed) return;
      if (e.kind() == tide::ErrorKind::TransferError) return;  // corrupt, truncated or unknown ticket
      std::fprintf(stderr, "unexpected %s: %s\n", tide::kind_name(e.kind()), e.what());
      std::abort();
    }
    decode_frame(L, r.kind, static_cast<std::uint32_t>(r.count), r.payload);
  }
  std::abort();  // more frames than bytes allow
}

}  // namespace

// Input: byte 0 chooses the mode. Even: the rest is the raw stream.
// Odd: the rest after byte 1 is wrapped as a valid Value frame of
// (byte 1 % 8) values followed by itself raw, so the checksums (which
// random bytes almost never satisfy) do not keep the decoder unexercised.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  lua_State* L = state();
  std::string stream;
  auto* rest = reinterpret_cast<const char*>(data + 2);
  std::size_t n = size - 2;
  if (data[0] & 1) {
    std::string_view payload(rest, n);
    tide::pipe::FrameHeader h = tide::pipe::make_header(tide::pipe::FrameKind::Value, data[1] % 8, payload);
    stream.assign(reinterpret_cast<const char*>(&h), sizeof h);
    stream.append(payload);
  }
  stream.append(rest, n);
  parse_all(L, stream.data(), stream.size());
  if (stream.size() <= 32 * 1024) {
    // Whatever the bytes did, the connection's arena memory is given back.
    static const std::int64_t baseline = [] {
      {  // the first send/recv claims this thread's owner token (arena memory kept)
        auto [a, b] = tide::pipe::Connection::create_pair(true);
        a->send_frame(tide::pipe::FrameKind::Bytes, 1, "x");
        tide::pipe::Received r;
        b->recv(r, tide::Deadline::never());
      }
      return tide::shm::Arena::get().bytes_in_use();
    }();
    through_connection(L, stream.data(), stream.size());
    if (tide::shm::Arena::get().bytes_in_use() != baseline) {
      std::fprintf(stderr, "arena leak: %lld bytes\n",
                   static_cast<long long>(tide::shm::Arena::get().bytes_in_use() - baseline));
      std::abort();
    }
  }
  return 0;
}
