#include "pool/actor.hpp"

#include <cstring>

#include "core/error.hpp"
#include "pool/thread_pool.hpp"
#include "shm/owner.hpp"

namespace tide::pool {

namespace {

shm::Arena& arena() {
  static shm::Arena& a = shm::Arena::get();
  return a;
}

void destroy_actor(shm::SharedHeader* h) noexcept {
  auto* d = reinterpret_cast<ActorData*>(h);
  if (d->name) arena().free(arena().at<void>(d->name));
  if (d->pool) shm::release_shared(arena().at<shm::SharedHeader>(d->pool));
  d->~ActorData();
}

const shm::RegisterSharedType kActorType{shm::SharedType::Actor, {destroy_actor, shm::proxy_of<ActorRef>}};

}  // namespace

Ref<ActorRef> ActorRef::create(const Ref<PoolShared>& pool, std::string_view name, bool process, bool restart) {
  shm::Offset text = 0;
  if (!name.empty()) {
    void* mem = arena().alloc(name.size());
    std::memcpy(mem, name.data(), name.size());
    text = arena().offset_of(mem);
  }
  ActorData* d;
  try {
    d = shm::create_shared<ActorData>();
  } catch (...) {
    if (text) arena().free(arena().at<void>(text));
    throw;
  }
  d->name = text;
  d->name_len = static_cast<std::uint32_t>(name.size());
  d->owner = shm::current_pid();
  d->process = process ? 1 : 0;
  d->restart = restart ? 1 : 0;
  shm::retain_shared(pool->shared_header());
  d->pool = pool->offset();
  return Ref<ActorRef>::adopt(new ActorRef(&d->header));
}

std::string_view ActorRef::name_view() const noexcept {
  const ActorData& d = data();
  if (!d.name) return {};
  return std::string_view(arena().at<char>(d.name), d.name_len);
}

ActorRef::ActorRef(shm::SharedHeader* h) : SharedObject(h) {
  auto* ph = arena().at<shm::SharedHeader>(data().pool);
  shm::retain_shared(ph);
  pool_ = Ref<PoolShared>::adopt(new PoolShared(ph));
}

Ref<future::Future> ActorRef::call(std::shared_ptr<const FunctionBlob> fn, Message args) {
  bool stored = is_process() || owner() != shm::current_pid();
  PoolShared::Pushed pushed;
  Ref<future::Future> fut = push_task(*pool_, stored, std::move(fn), std::move(args), pushed);
  if (fut) return fut;
  if (pushed == PoolShared::Pushed::Broken) throw Error(ErrorKind::WorkerDied, "actor '" + name() + "' is dead");
  throw Error(ErrorKind::WorkerDied, "actor '" + name() + "' was destroyed");
}

bool ActorRef::alive() const noexcept { return pool_->flags() == 0; }

bool ActorRef::dead() const noexcept { return (pool_->flags() & kBroken) != 0; }

void ActorRef::stop() noexcept {
  if (pool_->flags() & (kShutdown | kTerminate | kBroken)) return;
  try {
    pool_->stop(kShutdown, false);
  } catch (const std::exception&) {
  }
}

}  // namespace tide::pool
