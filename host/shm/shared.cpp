#include "shm/shared.hpp"

#include <pthread.h>

#include <mutex>

#include "core/error.hpp"

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
std::once_flag g_atfork_once;

const SharedTypeInfo* info_for(SharedType t) {
  auto i = static_cast<std::uint32_t>(t);
  if (i == 0 || i >= kMaxTypes) return nullptr;
  return g_types[i].destroy ? &g_types[i] : nullptr;
}

}  // namespace

RegisterSharedType::RegisterSharedType(SharedType type, SharedTypeInfo info) noexcept {
  g_types[static_cast<std::uint32_t>(type)] = info;
}

void retain_shared(SharedHeader* h) noexcept { h->refs.fetch_add(1, std::memory_order_relaxed); }

void release_shared(SharedHeader* h) noexcept {
  if (h->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
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
  if (!info || h->refs.load(std::memory_order_acquire) <= 0)
    throw Error(ErrorKind::TransferError, "shared object reference is not live");
  retain_shared(h);
  return Ref<Object>::adopt(info->make_proxy(h));
}

SharedObject::SharedObject(SharedHeader* header) : header_(header) {
  std::call_once(g_atfork_once, [] { pthread_atfork(fork_prepare, fork_parent, fork_child); });
  pthread_mutex_lock(&g_live_mutex);
  next_ = g_live;
  if (g_live) g_live->prev_ = this;
  g_live = this;
  pthread_mutex_unlock(&g_live_mutex);
}

SharedObject::~SharedObject() {
  pthread_mutex_lock(&g_live_mutex);
  if (prev_) prev_->next_ = next_;
  if (next_) next_->prev_ = prev_;
  if (g_live == this) g_live = next_;
  pthread_mutex_unlock(&g_live_mutex);
  release_shared(header_);
}

// Held from prepare to parent/child, so no proxy comes or goes mid-fork.
void fork_prepare() noexcept {
  pthread_mutex_lock(&g_live_mutex);
  for (SharedObject* p = g_live; p; p = p->next_) retain_shared(p->header_);
}

void fork_parent() noexcept { pthread_mutex_unlock(&g_live_mutex); }

// The forking thread locked it in fork_prepare and is the child's only
// thread: it unlocks (re-initialising instead leaves ThreadSanitizer sure
// the mutex is held forever, and every later lock an order violation).
void fork_child() noexcept { pthread_mutex_unlock(&g_live_mutex); }

}  // namespace tide::shm
