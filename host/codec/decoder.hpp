// Private to host/codec: the decoder's state, shared by decode.cpp and
// decode_function.cpp. Everything here runs under the decoder's lua_pcall
// (stack slots below are dec_main's) and reports failure as a Lua error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <lua.hpp>
#include <vector>

#include "core/message.hpp"
#include "wire/wire.hpp"

namespace tide::codec::dec {

// Stack slots of dec_main.
enum : int { kSlotDec = 1, kSlotRefs, kSlotGlobals, kSlotCache, kFirstResult };

struct Dec {
  lua_State* L;
  wire::Reader r;
  const std::vector<Ref<Object>>* objects;  // nullptr for untrusted bytes
  int count;                                // values left for dec_main
  int depth = 0;
  lua_Integer next_id = 0;
  bool required_tide = false;
};

// Pushes one value; returns the tag it started with.
std::uint8_t decode_value(Dec* d);
// After a function tag (kFunc/kPureFunc, maybe | kShared) / a kCFunc tag.
void decode_function(Dec* d, std::uint8_t tag);
void decode_cfunction(Dec* d);

[[noreturn]] void corrupt(Dec* d, const char* what);
// One more level of nesting (and stack room for it).
void enter(Dec* d);
// Gives the object at idx the next id; keeps it if others refer to it.
void remember(Dec* d, int idx, bool shared);
void push_ref(Dec* d, std::uint64_t dist);
void push_globals(lua_State* L);
void require(Dec* d, const char* name, std::size_t n);
void read_name(Dec* d, const char*& s, std::size_t& n);

}  // namespace tide::codec::dec
