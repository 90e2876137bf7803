// The allocator of the Lua states tide makes: a state's freed blocks of up
// to 1 KiB stay on its own free lists, one per 16-byte size class, and its
// next blocks of that size come from there first, newest first. With
// glibc's allocator alone, a state that drops many small objects at once (a
// collection cycle sweeping 100,000 dead futures' userdata) left them in
// malloc's bins, and the next allocations came from scattered memory, so
// the collector's walks over the state's objects missed the cache: W4 run
// back to back spent ~30% more (issue 14). It is the effect of glibc's
// tcache_count tunable, which a program cannot set for itself.
//
// A state is used by one thread at a time, so the lists take no lock. They
// hold at most as many bytes as the state has in use (at least 1 MiB):
// garbage is recycled, the heap's peak is not kept twice. A collection
// cycle that ends with the lists holding over 4 times that (a spike's
// garbage swept, the heap small again) trims them to it. A state that
// replaces the allocator before lua_close (a child closing for exit with
// one that frees nothing) leaves the cache to the process's end.
#pragma once
#include <lua.hpp>

#include <cstddef>

namespace tide::runtime {

// A new state that allocates through a new cache from its first block
// (lua_newstate, with luaL_newstate's panic and warning functions), so
// every block it frees is one of the cache's. lua_close frees the cache: a
// registry userdata's __gc, run among the finalizers, hands the frees after
// it back to malloc and frees the lists. nullptr if there was no memory.
lua_State* new_cached_state() noexcept;

// The allocator and its cache, for tests.
void* new_block_cache();
void* block_alloc(void* cache, void* ptr, size_t osize, size_t nsize) noexcept;
void delete_block_cache(void* cache) noexcept;
// What a cycle's end does: lists over 4 times the cap are trimmed to it.
void trim_block_cache(void* cache) noexcept;
// Tests: this thread's caches get n more blocks from malloc, then none
// (as if memory ran out), until called with -1.
void fail_block_mallocs_after(long n) noexcept;
// Bytes on the cache's lists.
std::size_t block_cache_bytes(const void* cache) noexcept;

}  // namespace tide::runtime
