#include "runtime/child_main.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"
#include "future/future.hpp"
#include "process/child.hpp"
#include "process/child_record.hpp"
#include "runtime/run_call.hpp"
#include "thread/host_exit.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "shm/stored_message.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace tide::runtime {

namespace {

// Completing can only fail for want of arena memory here; the parent then
// reports the exit status instead.
void complete_quietly(future::Future& f, const Outcome& o) noexcept {
  try {
    f.complete(o);
  } catch (const std::exception& e) {
    log::error("child cannot report its outcome: {}", e.what());
  }
}

// The forkserver's warm state: made once, copied into every child by fork.
void* prepare_state() {
  return new_state();
}

// The fork start method's template: a fresh state made in the parent at its
// first fork and never used there, so every fork child starts from a
// pristine copy, as the forkserver's children do. Published lock-free (a
// mutex would have to be fork-safe, and building a state takes the
// modules' fork-safe mutex, which fork_safe.hpp forbids inside another):
// two threads that build one at once keep one and close the other. One
// that a later register_module made stale is replaced and leaked, as a
// thread may be forking with it.
//
// Its objects are laid out in a region of their own (bump-allocated while
// it is built), so a child makes all of them private with one system call
// (MADV_POPULATE_WRITE) instead of a copy-on-write fault per page of the
// parent's heap it touches. Once built, the state allocates with malloc;
// region blocks are never freed (at most the region is wasted) and grow by
// moving to malloc.
struct Template {
  lua_State* L = nullptr;
  unsigned generation = 0;
  char* base = nullptr;
  std::size_t size = 0, used = 0;
  bool building = true;

  bool inside(const void* p) const noexcept {
    return p >= base && p < base + size;
  }
};
constexpr std::size_t kRegionSize = 256 * 1024;  // a fresh state takes ~40 KB
std::atomic<Template*> g_template{nullptr};

void* template_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* t = static_cast<Template*>(ud);
  bool inside = ptr && t->inside(ptr);
  if (nsize == 0) {
    if (!inside) std::free(ptr);
    return nullptr;
  }
  if (inside && nsize <= osize) return ptr;
  if (t->building) {
    std::size_t n = (nsize + 15) & ~std::size_t{15};
    if (t->size - t->used >= n) {
      void* p = t->base + t->used;
      t->used += n;
      if (ptr) {
        std::memcpy(p, ptr, std::min(osize, nsize));
        if (!inside) std::free(ptr);
      }
      return p;
    }
  }
  if (!inside) return std::realloc(ptr, nsize);
  void* p = std::malloc(nsize);
  if (p) std::memcpy(p, ptr, std::min(osize, nsize));
  return p;
}

void drop_template(Template* t) noexcept {
  if (t->L) lua_close(t->L);
  if (t->base) {
#if defined(__SANITIZE_ADDRESS__)
    __lsan_unregister_root_region(t->base, t->size);
#endif
    munmap(t->base, t->size);
  }
  delete t;
}

Template* build_template(unsigned gen) noexcept {
  auto* t = new (std::nothrow) Template;
  if (!t) return nullptr;
  t->generation = gen;
  void* region = mmap(nullptr, kRegionSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region != MAP_FAILED) {
    t->base = static_cast<char*>(region);
    t->size = kRegionSize;
#if defined(__SANITIZE_ADDRESS__)
    // The state's objects here point at blocks it later got from malloc:
    // LeakSanitizer scans the region, so those are not reported as leaks.
    __lsan_register_root_region(region, kRegionSize);
#endif
  }
  try {
    t->L = new_state(template_alloc, t);
  } catch (const std::exception&) {
    drop_template(t);
    return nullptr;
  }
  t->building = false;
  return t;
}

void* warm_state() noexcept {
  Template* t = g_template.load(std::memory_order_acquire);
  unsigned gen = modules_generation();
  if (t && t->generation == gen) return t->L;
  Template* fresh = build_template(gen);
  if (!fresh) return nullptr;
  if (g_template.compare_exchange_strong(t, fresh, std::memory_order_acq_rel)) return fresh->L;
  drop_template(fresh);  // another thread's won
  return t ? t->L : nullptr;
}

// A child's template is its own state now (its forks need another): its
// region is made private at once.
void take_template(lua_State* L) noexcept {
  Template* t = g_template.load(std::memory_order_acquire);
  if (!t || t->L != L) return;
  g_template.store(nullptr, std::memory_order_release);
  if (t->used) madvise(t->base, (t->used + 4095) & ~std::size_t{4095}, MADV_POPULATE_WRITE);
}

// Every child of a template (or of the forkserver's state) would draw the
// same math.random sequence: Lua seeds it when the state is made.
void reseed_random(lua_State* L) noexcept {
  int top = lua_gettop(L);
  if (lua_getglobal(L, "math") == LUA_TTABLE && lua_getfield(L, -1, "randomseed") == LUA_TFUNCTION) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushinteger(L, static_cast<lua_Integer>(getpid()));
    lua_pushinteger(L, static_cast<lua_Integer>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
    lua_pcall(L, 2, 0, 0);
  }
  lua_settop(L, top);
}

// The child exits right after closing its state: finalizers still run
// (__gc, files flushed), but freeing each object would write to every page
// of the state, each a copy-on-write fault in a fork child. Memory the
// finalizers ask for comes from malloc and is never given back either.
void* alloc_no_free(void*, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  if (nsize == 0) return nullptr;
  void* p = std::malloc(nsize);
  if (p && ptr) std::memcpy(p, ptr, std::min(osize, nsize));
  return p;
}

void close_for_exit(lua_State* L) noexcept {
  lua_setallocf(L, alloc_no_free, nullptr);
  lua_close(L);
}

int run_lua_child(const process::ChildInfo& info, void* prepared) noexcept {
  auto* L = static_cast<lua_State*>(prepared);
  process::set_identity(info);
  log::set_thread_name(process::current_name());
  Ref<future::Future> fut;
  // Borrowed (below): its proxy must never drop a reference, however this
  // function returns.
  struct Borrowed {
    Ref<future::Future>& f;
    ~Borrowed() { f.detach(); }
  } borrowed{fut};
  Message payload;
  try {
    // The Future is borrowed, not referenced: the parent's Process keeps
    // it alive until this child is reaped, and a reference of ours would
    // never be dropped if we are killed (the arena would keep the future).
    // The record is bytes from another process: process/child_record.hpp
    // checks it.
    Ref<future::Future> f = process::load_child_future(info);
    f->give_up_reference();
    fut = std::move(f);
    payload = process::load_child_payload(info);
  } catch (const std::exception& e) {
    log::error("child cannot load its work: {}", e.what());
    if (fut) complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, ErrorKind::TransferError});
    return process::kExitBadPayload;
  }
  log::debug("child {} started (parent {})", getpid(), info.parent_pid);
  int code = 1;
  try {
    if (L)
      take_template(L);
    else
      L = new_state();
    reseed_random(L);
    set_thread_state(L);
    install_sanitizer_cancel_check(L);
    Outcome out = run_call(L, payload);
    payload.clear();
    code = out.state == CompletionState::Completed ? 0 : 1;
    try {
      fut->complete(out);
    } catch (const Error& e) {
      // Results that cannot be stored in the arena (e.g. a Thread handle):
      // the parent gets the reason instead of a silent loss.
      complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, e.kind()});
      code = 1;
    }
  } catch (const std::exception& e) {
    log::error("child failed: {}", e.what());
    complete_quietly(*fut, Outcome{CompletionState::Failed, {}, e.what(), {}, ErrorKind::OSError});
  }
  fut.detach();  // borrowed
  // As a Python child does: join the threads and processes the work left.
  bool all_done = shutdown_host({});
  if (L && all_done) {
    set_thread_state(nullptr);
    close_for_exit(L);
  }
  // Nothing of ours runs any more: what this child still holds (the fork
  // copies of its parent's handles) must not pin arena objects, garbage
  // cycles among them, until the whole process tree exits.
  if (all_done) shm::release_process_references();
  std::fflush(nullptr);
  return code;
}

}  // namespace

void install_child_runner() noexcept {
  process::set_child_runner({prepare_state, run_lua_child, warm_state});
}

}  // namespace tide::runtime
