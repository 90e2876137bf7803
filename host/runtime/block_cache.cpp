#include "runtime/block_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "luabase/aux_defaults.hpp"
#include "luabase/finalizer.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A block on a list is poisoned past its link, so ASan still reports a use
// after free of Lua memory that the cache would otherwise hand out again
// unnoticed, and LeakSanitizer can still follow the list (a child that
// exits without closing its state leaves it reachable, not leaked).
#define TIDE_POISON(p, n) \
  ASAN_POISON_MEMORY_REGION(static_cast<char*>(static_cast<void*>(p)) + sizeof(FreeBlock), (n) - sizeof(FreeBlock))
#define TIDE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TIDE_POISON(p, n) ((void)(p), (void)(n))
#define TIDE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tide::runtime {

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxBlock = 1024;
constexpr std::size_t kClasses = kMaxBlock / kGranule;
constexpr std::size_t kMinCap = std::size_t(1) << 20;
// A cycle's end finds the lists holding this many times the cap: they are
// trimmed to it. A workload whose heap swings less (a batch of futures
// made, then swept) keeps its blocks for the next batch.
constexpr std::size_t kTrimRatio = 4;

struct FreeBlock {
  FreeBlock* next;
};

struct BlockCache {
  FreeBlock* lists[kClasses] = {};
  std::size_t cached = 0;  // bytes on the lists
  std::size_t in_use = 0;  // bytes Lua holds (its own count of them)
};

constexpr std::size_t class_of(std::size_t n) noexcept { return (n + kGranule - 1) / kGranule - 1; }
constexpr std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGranule; }
constexpr bool small(std::size_t n) noexcept { return n - 1 < kMaxBlock; }  // 1..kMaxBlock

// Every block the state holds was made here, for the size Lua asked for or
// a larger one: a block of a small size has at least its class's bytes.

FreeBlock* pop(BlockCache* c, std::size_t k) noexcept {
  FreeBlock* b = c->lists[k];
  if (b) {
    TIDE_UNPOISON(b, class_bytes(k));
    c->lists[k] = b->next;
    c->cached -= class_bytes(k);
  }
  return b;
}

// Hands every listed block back to malloc.
void flush(BlockCache* c) noexcept {
  for (std::size_t k = 0; k < kClasses; ++k)
    while (FreeBlock* b = pop(c, k)) std::free(b);
}

// Out of memory, the lists are what the state has spare, in whatever
// classes: they go back to malloc before Lua is told there is none (its
// emergency collection would only fill them again).
thread_local long t_mallocs_left = -1;  // fail_block_mallocs_after

void* counted_malloc(std::size_t n) noexcept {
  if (t_mallocs_left == 0) return nullptr;
  if (t_mallocs_left > 0) --t_mallocs_left;
  return std::malloc(n);
}

[[gnu::noinline, gnu::cold]] void* malloc_or_flush(BlockCache* c, std::size_t n) noexcept {
  void* p = counted_malloc(n);
  if (!p && c->cached) {
    flush(c);
    p = counted_malloc(n);
  }
  return p;
}

[[gnu::always_inline]] inline void* take(BlockCache* c, std::size_t n) noexcept {
  if (!small(n)) return malloc_or_flush(c, n);
  std::size_t k = class_of(n);
  if (FreeBlock* b = pop(c, k)) return b;
  return malloc_or_flush(c, class_bytes(k));
}

// Lua freed the block (`n`: the size it gave): counted out, and kept on its
// list while the lists hold less than the bytes still in use.
[[gnu::always_inline]] inline void release(BlockCache* c, void* p, std::size_t n) noexcept {
  c->in_use -= std::min(c->in_use, n);
  if (small(n)) {
    std::size_t k = class_of(n);
    std::size_t cap = std::max(kMinCap, c->in_use);
    if (c->cached + class_bytes(k) <= cap) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = c->lists[k];
      c->lists[k] = b;
      c->cached += class_bytes(k);
      TIDE_POISON(b, class_bytes(k));
      return;
    }
  }
  std::free(p);
}

// Resizing: in place within a class (the block has the class's bytes),
// else a new block and a copy.
[[gnu::noinline]] void* resize(BlockCache* c, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  void* block;
  if (!small(osize) && !small(nsize)) {
    block = std::realloc(ptr, nsize);
  } else if (small(osize) && small(nsize) && class_of(osize) == class_of(nsize)) {
    block = ptr;
  } else {
    block = take(c, nsize);
    if (block) {
      std::memcpy(block, ptr, std::min(osize, nsize));
      release(c, ptr, osize);
      c->in_use += nsize;
      return block;
    }
  }
  if (!block) {
    if (nsize > osize) return nullptr;
    block = ptr;  // Lua's rule: shrinking never fails; the block stays as it is
  }
  c->in_use = c->in_use - std::min(c->in_use, osize) + nsize;
  return block;
}

}  // namespace

void* new_block_cache() { return new (std::nothrow) BlockCache; }

void* block_alloc(void* cache, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  if (nsize == 0) {
    if (ptr) release(c, ptr, osize);
    return nullptr;
  }
  if (!ptr) {  // osize is the kind of object, not a size
    void* block = take(c, nsize);
    if (block) c->in_use += nsize;
    return block;
  }
  return resize(c, ptr, osize, nsize);
}

void trim_block_cache(void* cache) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  std::size_t cap = std::max(kMinCap, c->in_use);
  if (c->cached <= kTrimRatio * cap) return;
  for (std::size_t k = kClasses; k-- > 0 && c->cached > cap;)
    while (c->cached > cap && c->lists[k]) std::free(pop(c, k));
}

void fail_block_mallocs_after(long n) noexcept { t_mallocs_left = n; }

std::size_t block_cache_bytes(const void* cache) noexcept { return static_cast<const BlockCache*>(cache)->cached; }

void delete_block_cache(void* cache) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  if (!c) return;
  flush(c);
  delete c;
}

namespace {

void* plain_alloc(void*, void* ptr, std::size_t, std::size_t nsize) noexcept {
  if (nsize == 0) {
    std::free(ptr);
    return nullptr;
  }
  return std::realloc(ptr, nsize);
}

// __gc of the registry's closer: runs only in lua_close.
int close_cache(lua_State* L) {
  void* ud = nullptr;
  if (lua_getallocf(L, &ud) != block_alloc) return 0;  // replaced: left to the process's end
  lua_setallocf(L, plain_alloc, nullptr);
  delete_block_cache(ud);
  return 0;
}

int trim_at_cycle_end(lua_State* L);

int arm_trim(lua_State* L) {
  at_cycle_end(L, trim_at_cycle_end);
  return 0;
}

// __gc of an empty userdata: trims after a heap spike, once a cycle, and
// leaves the next one. At lua_close it runs before the closer (it was made
// after it), and its successor is never finalized. If the next one cannot
// be made (no memory, or a C stack overflow), the trims end: the lists
// still hold no more than the cap at each free.
int trim_at_cycle_end(lua_State* L) {
  void* ud = nullptr;
  if (lua_getallocf(L, &ud) != block_alloc) return 0;
  trim_block_cache(ud);
  lua_pushcfunction(L, arm_trim);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
  return 0;
}

int install_closer(lua_State* L) {
  run_at_close(L, "tide.block_cache", close_cache);
  return arm_trim(L);
}

}  // namespace

lua_State* new_cached_state() noexcept {
  void* cache = new_block_cache();
  if (!cache) return nullptr;
  lua_State* L = lua_newstate(block_alloc, cache);
  if (!L) {
    delete_block_cache(cache);
    return nullptr;
  }
  set_aux_defaults(L);
  lua_pushcfunction(L, install_closer);
  if (lua_pcall(L, 0, 0, 0) == LUA_OK) return L;
  // No memory for the closer or the first trim: the state goes. Its blocks
  // are malloc's; with the allocator switched first, a closer that was
  // made leaves the cache to us.
  lua_setallocf(L, plain_alloc, nullptr);
  lua_close(L);
  delete_block_cache(cache);
  return nullptr;
}

}  // namespace tide::runtime
