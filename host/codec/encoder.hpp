// Private to host/codec: the encoder's state, shared by encode.cpp and
// encode_error.cpp. Everything here runs under the encoder's lua_pcall.
#pragma once
#include <cstdint>
#include <lua.hpp>

#include "codec/codec.hpp"
#include "wire/wire.hpp"

namespace tide::codec::enc {

// One step of the path to the value being encoded, formatted only on error.
enum class Seg : std::uint8_t { Key, KeyOf, Upvalue };
struct PathSeg {
  Seg kind;
  int key;            // Key: stack index of the key
  const char* name;   // Upvalue: its name (owned by the function's prototype)
};

struct Enc {
  Enc(lua_State* l, Message& m, Label lb) noexcept : L(l), out(&m), w(m.bytes), label(lb) {}
  lua_State* L;
  Message* out;
  wire::Writer w;
  Label label;
  int value_no = 0;           // which of this call's values is being encoded
  int depth = 0;
  std::uint32_t next_id = 0;  // next table/function/object id
  const void* globals = nullptr;
  const void* error_mt = nullptr;
  bool error_mt_known = false;
  int nsegs = 0;
  PathSeg segs[kMaxDepth + 2];
  wire::PtrMap seen;    // table/function/userdata -> id and tag offset
  wire::PtrMap upvals;  // lua_upvalueid -> function id, tag offset, upvalue index
};

// Raises "<label>[ <n>][ <path>]: <what>[ as a table key]" as a Lua error.
[[noreturn]] void fail(Enc* e, const char* what);
// Raises Lua's out-of-memory message.
[[noreturn]] void oom(Enc* e);

inline void check(Enc* e, bool ok) {
  if (!ok) oom(e);
}

}  // namespace tide::codec::enc
