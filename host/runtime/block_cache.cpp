#include "runtime/block_cache.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

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

void* take(BlockCache* c, std::size_t n) noexcept {
  if (n > kMaxBlock) return std::malloc(n);
  std::size_t k = class_of(n);
  if (FreeBlock* b = c->lists[k]) {
    TIDE_UNPOISON(b, class_bytes(k));
    c->lists[k] = b->next;
    c->cached -= class_bytes(k);
    return b;
  }
  return std::malloc(class_bytes(k));
}

// `n`: the size Lua gave for the block. A block realloc made before the
// state switched allocators may be smaller than its class: it is kept only
// if malloc's usable size covers the class.
void give_back(BlockCache* c, void* p, std::size_t n) noexcept {
  if (n > 0 && n <= kMaxBlock) {
    std::size_t k = class_of(n);
    if (c->cached + class_bytes(k) <= std::max(kMinCap, c->in_use) && malloc_usable_size(p) >= class_bytes(k)) {
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

}  // namespace

void* new_block_cache() { return new (std::nothrow) BlockCache; }

void* block_alloc(void* cache, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  if (!ptr) osize = 0;  // then osize is the kind of object, not a size
  if (nsize == 0) {
    if (ptr) {
      c->in_use -= std::min(c->in_use, osize);
      give_back(c, ptr, osize);
    }
    return nullptr;
  }
  void* block;
  if (ptr && osize > kMaxBlock && nsize > kMaxBlock) {
    block = std::realloc(ptr, nsize);
  } else if (ptr && class_of(osize) == class_of(nsize) && osize <= kMaxBlock && nsize <= kMaxBlock &&
             malloc_usable_size(ptr) >= nsize) {
    block = ptr;
  } else {
    block = take(c, nsize);
    if (block && ptr) {
      std::memcpy(block, ptr, std::min(osize, nsize));
      give_back(c, ptr, osize);
    }
  }
  if (!block) {
    if (nsize > osize) return nullptr;
    block = ptr;  // Lua's rule: shrinking never fails; the block stays as it is
  }
  c->in_use = c->in_use - std::min(c->in_use, osize) + nsize;
  return block;
}

std::size_t block_cache_bytes(const void* cache) noexcept { return static_cast<const BlockCache*>(cache)->cached; }

void delete_block_cache(void* cache) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  if (!c) return;
  for (std::size_t k = 0; k < kClasses; ++k) {
    FreeBlock* head = c->lists[k];
    while (head) {
      TIDE_UNPOISON(head, class_bytes(k));
      FreeBlock* next = head->next;
      std::free(head);
      head = next;
    }
  }
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

int install_closer(lua_State* L) {
  run_at_close(L, "tide.block_cache", close_cache);
  return 0;
}

}  // namespace

bool use_block_cache(lua_State* L) noexcept {
  void* cache = new_block_cache();
  if (!cache) return false;
  void* old_ud = nullptr;
  lua_Alloc old = lua_getallocf(L, &old_ud);
  lua_setallocf(L, block_alloc, cache);
  lua_pushcfunction(L, install_closer);
  if (lua_pcall(L, 0, 0, 0) == LUA_OK) return true;
  lua_pop(L, 1);
  // Blocks made meanwhile are malloc's, which the old allocator frees.
  lua_setallocf(L, old, old_ud);
  delete_block_cache(cache);
  return false;
}

}  // namespace tide::runtime
