// libFuzzer target for the transfer codec's decoder: any byte string must
// either decode or raise TransferError, never crash, leak or over-allocate.
// Input: first byte = number of values (mod 8), the rest = message bytes.
// Whatever decodes is encoded again and decoded once more, which also runs
// the encoder over fuzz-shaped values (odd keys, loaded bytecode, cycles).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <lua.hpp>
#include <string_view>

#include "codec/codec.hpp"
#include "core/error.hpp"
#include "luabase/cfunctions.hpp"

namespace {

// Caps the state's memory so a bogus length can only fail an allocation.
constexpr std::size_t kMemoryLimit = 256u << 20;
std::size_t g_used = 0;

void* limited_alloc(void*, void* ptr, std::size_t osize, std::size_t nsize) {
  if (!ptr) osize = 0;
  if (nsize == 0) {
    std::free(ptr);
    g_used -= osize;
    return nullptr;
  }
  if (nsize > osize && g_used + (nsize - osize) > kMemoryLimit) return nullptr;
  void* p = std::realloc(ptr, nsize);
  if (p) g_used += nsize - osize;
  return p;
}

lua_State* new_state() {
  lua_State* L = lua_newstate(limited_alloc, nullptr);
  if (!L) std::abort();
  luaL_openlibs(L);
  // Module names come from the input: never load anything from disk.
  if (luaL_dostring(L, "package.path, package.cpath = '', ''") != LUA_OK) std::abort();
  // C functions decoded by name can be encoded again.
  lua_pushglobaltable(L);
  tide::cfunctions::register_table(L, -1, "_G");
  for (const char* lib : {"string", "table", "math", "io", "os", "coroutine", "utf8", "debug"}) {
    lua_getfield(L, -1, lib);
    tide::cfunctions::register_table(L, -1, lib);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return L;
}

lua_State* g_state = nullptr;
int g_runs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (!g_state || ++g_runs % 5000 == 0) {  // a fresh state now and then
    if (g_state) lua_close(g_state);
    g_state = new_state();
  }
  lua_State* L = g_state;
  const int count = data[0] % 8;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  lua_settop(L, 0);
  int expected_top = 0;  // where the stack must be if the current step throws
  try {
    int n = tide::codec::decode_bytes(L, bytes, count);
    if (n != count || lua_gettop(L) != count) std::abort();
    tide::Message m;
    expected_top = count;
    tide::codec::encode(L, 1, n, m, {"value", 1});
    if (lua_gettop(L) != count || m.count != count || !m.objects.empty()) std::abort();
    lua_settop(L, 0);
    expected_top = 0;
    if (tide::codec::decode(L, m) != count || lua_gettop(L) != count) std::abort();
  } catch (const tide::Error& e) {
    if (e.kind() != tide::ErrorKind::TransferError || lua_gettop(L) != expected_top) std::abort();
  }
  lua_settop(L, 0);
  return 0;
}
