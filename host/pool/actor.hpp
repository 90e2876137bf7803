// An actor (API.md §16) is a pool core with one worker (thread_pool.hpp,
// Options::actor): its FIFO is the mailbox, served one call at a time in
// arrival order by a warm worker state that keeps the actor's `self`
// between calls (bindings/actor.cpp puts it there). This file is the
// actor's transferable half: an ActorRef, a shared object in the arena
// naming the pool's shared part, so any thread or process (every start
// method) that holds one queues calls on that FIFO directly, without the
// process that owns the worker. The pool core itself (supervisor, exit
// handling) stays with the owner: the process that spawned the actor.
//
// A call is a pool task whose function is the actor dispatcher (a C
// function of tide.actor, cached by every worker) and whose arguments are
// the method name and the call's arguments. The owner's calls on a thread
// actor use Local records (their arguments may hold objects of that process
// alone, such as Threads); every other call is a Stored record.
//
// The actor is alive while its pool's flags are clear: destroy() (or host
// exit in the owner) shuts the pool down, a death without restart breaks it.
// Pushing onto a stopped pool changes nothing: the call raises WorkerDied.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/message.hpp"
#include "future/future.hpp"
#include "pool/pool_data.hpp"
#include "pool/task.hpp"
#include "shm/shared.hpp"

namespace tide::pool {

struct ActorData {
  shm::SharedHeader header;
  shm::Offset pool = 0;        // PoolShared: one reference, dropped with this
  shm::Offset name = 0;        // name_len bytes (an arena block; 0 when empty)
  std::uint32_t name_len = 0;
  std::int32_t owner = 0;      // the pid whose pool core runs the worker
  std::uint32_t process = 0;   // 1: the worker is a process (Stored records only)
  std::uint32_t restart = 0;   // 1: a worker process that dies is restarted
  ActorData() noexcept { header.type = shm::SharedType::Actor; }
};

class ActorRef final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.ActorRef";
  const char* type_name() const noexcept override { return kTypeName; }

  // Throws OSError (arena full).
  static Ref<ActorRef> create(const Ref<PoolShared>& pool, std::string_view name, bool process, bool restart);
  // Adopts one reference to `h`; takes one of its own to the pool's part.
  explicit ActorRef(shm::SharedHeader* h);
  ActorData& data() const noexcept { return *reinterpret_cast<ActorData*>(shared_header()); }

  std::string name() const { return std::string(name_view()); }
  // The name's bytes in the arena, valid while this ref lives.
  std::string_view name_view() const noexcept;
  bool is_process() const noexcept { return data().process != 0; }
  bool restarts() const noexcept { return data().restart != 0; }
  pid_t owner() const noexcept { return data().owner; }
  PoolShared& pool() const noexcept { return *pool_; }

  // Queues a call (fn: the dispatcher, args: method name and arguments).
  // WorkerDied once the actor is dead or destroyed; TransferError when the
  // arguments cannot reach its worker (process-local objects, for a process
  // actor or from another process).
  Ref<future::Future> call(std::shared_ptr<const FunctionBlob> fn, Message args);
  // Neither destroyed nor dead.
  bool alive() const noexcept;
  // Dead: its worker died (no restart) or its __init raised.
  bool dead() const noexcept;
  // destroy() from a process other than the owner: the worker finishes
  // what is queued, runs __pre_destroy and leaves (the owner's pool core
  // sees it go). Idempotent.
  void stop() noexcept;

 private:
  Ref<PoolShared> pool_;
};

}  // namespace tide::pool
