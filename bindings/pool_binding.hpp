// Shared by the tide._pool binding files (pool.cpp, process_pool.cpp).
#pragma once
#include <lua.hpp>

#include <string_view>

#include <memory>

#include "pool/thread_pool.hpp"

namespace tide::pool_binding {

int cpu_count();

// Makes the options table argument 1 ({} when absent; ArgumentError if not
// a table or if it has a key not in `accepted`) and drops everything above it.
void open_options(lua_State* L, const char* const* accepted);

// The options both kinds take, from the table at 1 (ArgumentError on a bad
// one; `workers` from 1 to max_workers). Pushes the initializer and its arguments last: `init` is the
// initializer's index (0: none), `ninit` counts it and its arguments.
struct PoolSpec {
  lua_Integer workers = 0, max_tasks = 0;
  std::string_view name;  // on the stack while the call runs; every byte
  int init = 0, ninit = 0;
};
PoolSpec read_spec(lua_State* L, lua_Integer max_workers);

// submit's function cache (pool_functions.cpp). blob_box: Lua API only (may
// raise, holds no C++ object): fn's cache box, made empty if new, or
// nullptr when fn is not cacheable; it pushes the box (or nil), which keeps
// the box alive: leave it on the stack until function_blob is done with it.
// function_blob (inside protect(), may
// throw TransferError): the blob to submit, encoded once per box.
// `portable` (tide.cluster): the function leaves this machine, so a tide
// object among its upvalues is a TransferError. A cached function has no
// upvalue but the globals, so its blob is the same either way.
struct BlobBox;
BlobBox* blob_box(lua_State* L, int fn);
std::shared_ptr<const pool::FunctionBlob> function_blob(lua_State* L, int fn, BlobBox* box, bool portable = false);

// Registers the exit hooks (in the order pools need), then creates.
Ref<pool::Pool> start_pool(pool::Options options);

// ProcessPool{workers=?, start_method=?, initializer=?, initargs=?,
//             max_tasks_per_worker=?, name=?, retries=?, task_timeout=?}
int l_ProcessPool(lua_State* L);

// Inside protect(): fills `o.process` (the shared part, the init_failure
// future, and each slot's payload running tide._pool._serve with the
// initializer at `init` and its ninit - 1 arguments; ninit 0: none). Names
// the pool if it has no name. Throws TransferError / OSError.
void process_payloads(lua_State* L, pool::Options& o, int init, int ninit);

}  // namespace tide::pool_binding
