// tide.cluster's client core (API.md §17), Lua-free: the pool a script
// submits to. submit() seals a task (envelope.hpp) and hands it to a sender
// thread, which XADDs it to the queue's task stream (pipelined batches);
// a receiver thread reads this client's result stream (XREAD BLOCK),
// authenticates each result and completes the task's Future, an ordinary
// arena Future, so every tide wait works on it. Both threads reconnect
// after a lost connection (Link) and carry on: the sender sends again what
// was not confirmed, the receiver reads on from the last result it took.
//
// Delivery is at least once (a task may run twice: a worker reclaimed after
// a stall, a task resent after a lost reply); each Future completes once,
// with the first result for its task: results of tasks no longer pending
// are dropped.
//
// Lifecycle: shutdown(wait) stops accepting tasks; with wait it returns
// once every pending Future has completed, then stops the threads and
// deletes the result stream; without, the threads do that themselves
// when the last result is in. cancel_futures / terminate() cancel every
// pending Future (their tasks are deleted from the stream; one a worker
// already took still runs, and its result is dropped).
//
// Lock order: Core::m only, never held across Redis I/O, a wait, or
// Future::complete. The process-wide registry lock (client.cpp) is taken
// before no other.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/redis_url.hpp"
#include "core/deadline.hpp"
#include "core/object.hpp"
#include "future/future.hpp"

namespace tide::cluster {

struct ClientOptions {
  RedisUrl url;
  std::string queue = "default";
  std::string key;                  // the shared key (checked by the binding)
  std::uint32_t max_deliveries = 3;
  std::string name;                 // empty: "ClusterPool-N"
  double timeout = 5.0;             // connect, and how long Redis may stay silent
  std::string lua;                  // the client's Lua version, stamped on tasks
};

struct ClientCore;

class Client final : public Object {
 public:
  static constexpr char kTypeName[] = "tide.cluster.Pool";
  const char* type_name() const noexcept override { return kTypeName; }

  // Connects (two connections), creates the queue's consumer group and this
  // client's result stream, starts the threads. Throws OSError when Redis
  // cannot be reached or refuses (AUTH), within options.timeout.
  static Ref<Client> create(ClientOptions options);
  ~Client() override;  // the last handle: shutdown without waiting

  // Queues a task: fn (codec bytes of one function), args (nargs values).
  // InvalidState after shutdown; BrokenPool in a fork child.
  Ref<future::Future> submit(std::string fn, bool cacheable, std::string args, int nargs);

  void shutdown(bool wait, bool cancel_futures);
  void terminate();
  // Waits for the threads to finish; InvalidState unless shut down.
  bool join(const Deadline& deadline);

  const std::string& name() const noexcept;
  const std::string& queue() const noexcept;
  const std::string& id() const noexcept;
  std::string where() const;
  // The live workers' total concurrency, as of the last heartbeat read
  // (about once a second).
  int workers() const noexcept;
  std::size_t pending() const;
  bool is_shutdown() const;
  // Results dropped because their task had completed already.
  std::uint64_t duplicates() const noexcept;

  // Host exit: every client of this process sends what it has queued
  // (unless interrupted), then stops; results still outstanding are
  // not waited for (their tasks stay in Redis and still run).
  static void close_all(bool interrupted) noexcept;

 private:
  explicit Client(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<ClientCore> core_;
};

}  // namespace tide::cluster
