// The transfer codec (DESIGN.md mechanism 1): one encoder from a lua_State
// into a Message and one decoder from a Message into another state. Every
// module that moves values between states uses it.
//
// Neither function lets a Lua error escape: both run the Lua-facing part
// under lua_pcall and report failure by throwing tide::Error (TransferError,
// or the Lua error's message for out-of-memory), so callers may hold C++
// objects with destructors around them.
#pragma once
#include <lua.hpp>
#include <string_view>

#include "core/message.hpp"

namespace tide::codec {

// How a value is named in a TransferError path: `label` alone when
// `first_number` is 0 ("item"), else "label N" counting from first_number
// ("argument 2"). Example message:
//   "argument 2 .config.on_done[3]: cannot transfer a coroutine"
struct Label {
  const char* label = "value";
  int first_number = 1;
  // The values leave this machine (tide.cluster): a tide object, which
  // lives in this machine's shared memory, is a TransferError naming it.
  bool portable = false;
};

// Appends the n values at stack slots [first, first+n) to `out`
// (out.count += n). Stack is left as it was. Throws TransferError.
void encode(lua_State* L, int first, int n, Message& out, Label label = {});

// Pushes every value of `in` onto L's stack, in order; returns in.count.
// Throws TransferError for any malformed input, leaving the stack as it was.
int decode(lua_State* L, const Message& in);

// Decode of untrusted bytes (fuzzing, pipes): objects are never referenced
// by such input; an object index is a TransferError.
int decode_bytes(lua_State* L, std::string_view bytes, int count);

// Nesting deeper than this (tables in tables, function upvalues) is a
// TransferError on encode and decode, never a C stack overflow.
inline constexpr int kMaxDepth = 200;

}  // namespace tide::codec
