// runtime/block_cache: the Lua states' allocator that keeps freed small
// blocks per size class.
#include <doctest.h>
#include <lua.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/block_cache.hpp"
#include "runtime/state.hpp"

using tide::runtime::block_alloc;

TEST_CASE("a freed small block is the next one of its size class; larger ones go to malloc") {
  void* c = tide::runtime::new_block_cache();
  void* a = block_alloc(c, nullptr, LUA_TTABLE, 40);  // osize is a kind here
  REQUIRE(a);
  std::memset(a, 1, 40);
  block_alloc(c, a, 40, 0);
  CHECK(block_alloc(c, nullptr, LUA_TSTRING, 33) == a);  // 33..48 share a class
  void* b = block_alloc(c, nullptr, 0, 20);                // another class
  CHECK(b != a);
  void* big = block_alloc(c, nullptr, 0, 5000);
  REQUIRE(big);
  std::memset(big, 2, 5000);
  void* bigger = block_alloc(c, big, 5000, 9000);  // large to large: realloc
  REQUIRE(bigger);
  CHECK(static_cast<unsigned char*>(bigger)[4999] == 2);
  block_alloc(c, bigger, 9000, 0);
  block_alloc(c, a, 33, 0);
  block_alloc(c, b, 20, 0);
  tide::runtime::delete_block_cache(c);
}

TEST_CASE("resizing keeps the contents, within a class in place, across classes by copy") {
  void* c = tide::runtime::new_block_cache();
  auto* p = static_cast<char*>(block_alloc(c, nullptr, 0, 20));
  std::memcpy(p, "0123456789abcdefghi", 20);
  CHECK(block_alloc(c, p, 20, 30) == p);  // 17..32: one class
  auto* q = static_cast<char*>(block_alloc(c, p, 30, 700));
  REQUIRE(q);
  CHECK(std::memcmp(q, "0123456789abcdefghi", 20) == 0);
  auto* r = static_cast<char*>(block_alloc(c, q, 700, 2000));  // small to large
  REQUIRE(r);
  CHECK(std::memcmp(r, "0123456789abcdefghi", 20) == 0);
  auto* s = static_cast<char*>(block_alloc(c, r, 2000, 10));  // large to small
  REQUIRE(s);
  CHECK(std::memcmp(s, "0123456789", 10) == 0);
  block_alloc(c, s, 10, 0);
  tide::runtime::delete_block_cache(c);
}

TEST_CASE("the lists hold no more than the bytes in use, or 1 MiB") {
  void* c = tide::runtime::new_block_cache();
  std::vector<void*> blocks;
  for (int i = 0; i < 100000; ++i) blocks.push_back(block_alloc(c, nullptr, 0, 64));
  for (void* b : blocks) block_alloc(c, b, 64, 0);
  // 6.4 MB in use when the frees began, less with each: the lists took
  // blocks until they held as much as was still in use, about half.
  std::size_t held = tide::runtime::block_cache_bytes(c);
  CHECK(held >= (std::size_t(1) << 20));
  CHECK(held <= 3200000 + 64);
  std::vector<void*> again;
  for (int i = 0; i < 100000; ++i) again.push_back(block_alloc(c, nullptr, 0, 64));
  CHECK(tide::runtime::block_cache_bytes(c) == 0);  // handed out first
  for (void* b : again) block_alloc(c, b, 64, 0);
  tide::runtime::delete_block_cache(c);
}

TEST_CASE("a trim leaves a swing of the heap alone and brings a spike down to the cap") {
  void* c = tide::runtime::new_block_cache();
  std::vector<void*> blocks;
  for (int i = 0; i < 400000; ++i) blocks.push_back(block_alloc(c, nullptr, 0, 64));
  // 25.6 MB, all but 1.6 MB of it freed: the lists hold half of the spike,
  // 12.8 MB, and the heap is 1.6 MB.
  for (int i = 25000; i < 400000; ++i) block_alloc(c, blocks[i], 64, 0);
  std::size_t spike = tide::runtime::block_cache_bytes(c);
  CHECK(spike >= 12800000 - 64);
  tide::runtime::trim_block_cache(c);
  CHECK(tide::runtime::block_cache_bytes(c) == 1600000);  // the bytes in use
  // A swing under 4 times: nothing trimmed.
  std::vector<void*> swing;
  for (int i = 0; i < 50000; ++i) swing.push_back(block_alloc(c, nullptr, 0, 64));
  for (void* b : swing) block_alloc(c, b, 64, 0);
  std::size_t kept = tide::runtime::block_cache_bytes(c);
  tide::runtime::trim_block_cache(c);
  CHECK(tide::runtime::block_cache_bytes(c) == kept);
  for (int i = 0; i < 25000; ++i) block_alloc(c, blocks[i], 64, 0);
  tide::runtime::delete_block_cache(c);
}

TEST_CASE("a state's cycles trim its lists after a spike") {
  lua_State* L = tide::runtime::new_state();
  void* cache = nullptr;
  lua_getallocf(L, &cache);
  // 300,000 small tables (about 20 MB), dropped; then small garbage, so
  // cycles go on ending while the heap is small.
  REQUIRE(luaL_dostring(L, "local t = {} for i = 1, 300000 do t[i] = {} end t = nil collectgarbage() "
                           "for i = 1, 3 do collectgarbage() end") == LUA_OK);
  std::size_t in_use = static_cast<std::size_t>(lua_gc(L, LUA_GCCOUNT, 0)) * 1024;
  CHECK(tide::runtime::block_cache_bytes(cache) <= std::max<std::size_t>(std::size_t(1) << 20, in_use + 1024));
  lua_close(L);
}

TEST_CASE("a state from new_state runs through the cache; lua_close frees it") {
  lua_State* L = tide::runtime::new_state();
  void* ud = nullptr;
  lua_Alloc f = lua_getallocf(L, &ud);
  CHECK((f == block_alloc));
  REQUIRE(luaL_dostring(L, "local t = {} for i = 1, 100000 do t[i] = {i} end t = nil collectgarbage() "
                           "local u = {} for i = 1, 1000 do u[i] = ('x'):rep(i % 900) end return #u") == LUA_OK);
  CHECK(lua_tointeger(L, -1) == 1000);
  lua_close(L);  // the closer frees the cache: ASan's leak check would see it otherwise
}

TEST_CASE("a state made while memory runs out is made whole or not at all") {
  // Each step of making a state fails in turn: new_cached_state returns a
  // working state or nullptr, and frees what it made (ASan: no double free,
  // no leak).
  int made = 0;
  for (long n = 0; n < 400 && made == 0; ++n) {
    tide::runtime::fail_block_mallocs_after(n);
    lua_State* L = tide::runtime::new_cached_state();
    tide::runtime::fail_block_mallocs_after(-1);
    if (!L) continue;
    ++made;
    CHECK(luaL_dostring(L, "return 6 * 7") == LUA_OK);
    CHECK(lua_tointeger(L, -1) == 42);
    lua_close(L);
  }
  CHECK(made == 1);
}

TEST_CASE("out of memory the lists go back to malloc before an allocation fails") {
  void* c = tide::runtime::new_block_cache();
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(block_alloc(c, nullptr, 0, 48));
  for (void* b : blocks) block_alloc(c, b, 48, 0);
  CHECK(tide::runtime::block_cache_bytes(c) == 48000);
  tide::runtime::fail_block_mallocs_after(0);
  CHECK(block_alloc(c, nullptr, 0, 200) == nullptr);   // another class: none to be had
  tide::runtime::fail_block_mallocs_after(-1);
  CHECK(tide::runtime::block_cache_bytes(c) == 0);  // flushed, for Lua's retry
  void* again = block_alloc(c, nullptr, 0, 200);
  CHECK(again != nullptr);
  block_alloc(c, again, 200, 0);
  tide::runtime::delete_block_cache(c);
}
