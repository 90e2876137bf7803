// Private to host/codec: a structural check of a Lua 5.4 binary chunk
// before lua_load sees it. lundump trusts the counts in a chunk (it
// allocates whatever a count says, recurses per nested prototype and, in
// 5.4.4, writes upvalue names past the end of the upvalue array when the
// chunk says so), so bytes from another process are walked here first, the
// same way lundump.c reads them, checking every count against the bytes
// that remain. This makes loading safe, not running: bytecode itself is
// not verified, so a function from a hostile peer must never be called.
#pragma once
#include <cstddef>

namespace tide::codec::detail {

// True when `p[0, n)` is one well-formed dumped function whose declared
// sizes all fit in the chunk, nested at most 200 prototypes deep, and whose
// closure upvalue count matches its prototype.
bool plausible_bytecode(const char* p, std::size_t n) noexcept;

}  // namespace tide::codec::detail
