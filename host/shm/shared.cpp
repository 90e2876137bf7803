#include "shm/shared.hpp"

#include <pthread.h>

#include <mutex>
#include <utility>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "shm/cycles.hpp"

namespace tide::shm {

namespace {

constexpr int kMaxTypes = 32;
// Constant-initialised (zero), so registrations from other files' static
// initialisers may run in any order; written only by them (see shared.hpp).
SharedTypeInfo g_types[kMaxTypes];

// Live proxies of this process. A plain pthread mutex, re-initialised in
// the fork child (where its holder may not exist).
pthread_mutex_t g_live_mutex = PTHREAD_MUTEX_INITIALIZER;
SharedObject* g_live = nullptr;
// Serials of proxies, under g_live_mutex. Every proxy with a serial below
// g_released_below had its reference dropped by release_process_references.
std::uint64_t g_next_serial = 0;
std::atomic<std::uint64_t> g_released_below{0};

const SharedTypeInfo* info_for(SharedType t) {
  auto i = static_cast<std::uint32_t>(t);
  if (i == 0 || i >= kMaxTypes) return nullptr;
  return g_types[i].destroy ? &g_types[i] : nullptr;
}

}  // namespace

RegisterSharedType::RegisterSharedType(SharedType type, SharedTypeInfo info) noexcept {
  g_types[static_cast<std::uint32_t>(type)] = info;
}

const SharedTypeInfo* shared_type_info(SharedType t) noexcept { return info_for(t); }

void retain_shared(SharedHeader* h) noexcept { h->refs.fetch_add(kRefVersion + 1, std::memory_order_relaxed); }

void release_shared(SharedHeader* h) noexcept {
  if (CycleCollector::offer(h)) return;
  drop_shared(h);
}

void drop_shared(SharedHeader* h) noexcept {
  // Adding 2^32 - 1 takes one from the count and (by the carry) adds one
  // to the version.
  if (ref_count(h->refs.fetch_add(kRefVersion - 1, std::memory_order_acq_rel)) != 1) {
    tsan_handoff_release();  // another process may free and reuse the block now
    return;
  }
  tsan_handoff_acquire();
  CycleCollector::Defer defer;  // cycles this destruction leaves are collected after it
  if (const SharedTypeInfo* info = info_for(h->type)) info->destroy(h);
  Arena::get().free(h);
}

Ref<Object> proxy_for(Offset offset) {
  Arena& a = Arena::get();
  if (!a.is_block(offset, sizeof(SharedHeader)))
    throw Error(ErrorKind::TransferError, "bad shared object reference");
  auto* h = a.at<SharedHeader>(offset);
  if (h->magic != kSharedMagic) throw Error(ErrorKind::TransferError, "bad shared object reference");
  const SharedTypeInfo* info = info_for(h->type);
  if (!info || ref_count(h->refs.load(std::memory_order_acquire)) == 0)
    throw Error(ErrorKind::TransferError, "shared object reference is not live");
  retain_shared(h);
  return Ref<Object>::adopt(info->make_proxy(h));
}

SharedObject::SharedObject(SharedHeader* header) : header_(header) {
  header_->proxies.fetch_add(1, std::memory_order_relaxed);
  pthread_mutex_lock(&g_live_mutex);
  serial_ = g_next_serial++;
  next_ = g_live;
  if (g_live) g_live->prev_ = this;
  g_live = this;
  pthread_mutex_unlock(&g_live_mutex);
}

void SharedObject::unlink_locked() noexcept {
  if (prev_) prev_->next_ = next_;
  if (next_) next_->prev_ = prev_;
  if (g_live == this) g_live = next_;
  prev_ = next_ = nullptr;
}

bool SharedObject::released() const noexcept {
  return released_ || serial_ < g_released_below.load(std::memory_order_relaxed);
}

void SharedObject::give_up_reference() noexcept {
  if (released()) return;
  pthread_mutex_lock(&g_live_mutex);
  unlink_locked();
  released_ = true;
  pthread_mutex_unlock(&g_live_mutex);
  header_->proxies.fetch_sub(1, std::memory_order_acq_rel);
  release_shared(header_);
}

void release_process_references() noexcept {
  // Without writing to the proxies: in a fork child each write to one
  // copies its page (one page fault each, on pages nothing else touches).
  // The serial marks them all released, and the list starts anew; the old
  // one is then this function's alone (their destructors no longer unlink).
  pthread_mutex_lock(&g_live_mutex);
  SharedObject* old = std::exchange(g_live, nullptr);
  g_released_below.store(g_next_serial, std::memory_order_relaxed);
  pthread_mutex_unlock(&g_live_mutex);
  for (SharedObject* p = old; p; p = p->next_) {
    p->header_->proxies.fetch_sub(1, std::memory_order_acq_rel);
    release_shared(p->header_);
  }
  CycleCollector::flush();  // _exit runs no thread_local destructor
}

SharedObject::~SharedObject() {
  if (released()) return;
  pthread_mutex_lock(&g_live_mutex);
  unlink_locked();
  pthread_mutex_unlock(&g_live_mutex);
  // Before the reference: release_shared then sees whether this was the
  // last proxy anywhere.
  header_->proxies.fetch_sub(1, std::memory_order_acq_rel);
  release_shared(header_);
}

// Held from prepare to parent/child, so no proxy comes or goes mid-fork.
void fork_prepare() noexcept {
  pthread_mutex_lock(&g_live_mutex);
  for (SharedObject* p = g_live; p; p = p->next_) {
    retain_shared(p->header_);
    p->header_->proxies.fetch_add(1, std::memory_order_relaxed);
  }
}

void fork_parent() noexcept { pthread_mutex_unlock(&g_live_mutex); }

// The forking thread locked it in fork_prepare and is the child's only
// thread: it unlocks (re-initialising instead leaves ThreadSanitizer sure
// the mutex is held forever, and every later lock an order violation).
void fork_child() noexcept {
  pthread_mutex_unlock(&g_live_mutex);
  CycleCollector::forget_after_fork();
}

namespace {
AtFork g_at_fork{fork_prepare, fork_parent, fork_child};
}  // namespace

}  // namespace tide::shm
