#include "runtime/block_cache.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

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
      return;
    }
  }
  std::free(p);
}

}  // namespace

void* new_block_cache() { return new BlockCache; }

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
    if (!block) return nsize <= osize ? ptr : nullptr;  // Lua's rule: shrinking never fails
    if (ptr) {
      std::memcpy(block, ptr, std::min(osize, nsize));
      give_back(c, ptr, osize);
    }
  }
  if (!block) return nsize <= osize ? ptr : nullptr;
  c->in_use = c->in_use - std::min(c->in_use, osize) + nsize;
  return block;
}

std::size_t block_cache_bytes(const void* cache) noexcept { return static_cast<const BlockCache*>(cache)->cached; }

void delete_block_cache(void* cache) noexcept {
  auto* c = static_cast<BlockCache*>(cache);
  if (!c) return;
  for (FreeBlock* head : c->lists) {
    while (head) {
      FreeBlock* next = head->next;
      std::free(head);
      head = next;
    }
  }
  delete c;
}

}  // namespace tide::runtime
