// Private to host/cluster: the state a cluster Client shares with its two
// I/O threads (client.hpp describes the design). Each field says which lock
// guards it; the threads hold a shared_ptr, so the core outlives the last
// handle until they have finished.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/client.hpp"
#include "cluster/keys.hpp"
#include "cluster/redis.hpp"
#include "core/unique_fd.hpp"
#include "core/wait.hpp"

namespace tide::cluster {

class Link;

struct Outbound {
  std::uint64_t task;
  std::string bytes;  // the sealed envelope
};

struct PendingTask {
  Ref<future::Future> future;
  std::string entry_id;  // the task stream id once XADD confirmed it
};

struct ClientCore {
  ClientCore(ClientOptions o, std::string client_id);

  const ClientOptions opt;
  const Keys keys;
  const std::string id;       // this client: "host:pid:random"
  const std::string results;  // its result stream
  const std::string who;      // "cluster pool 'name'" for log lines
  const pid_t owner;          // the process whose threads serve it
  UniqueFd stop_fd;           // eventfd, readable once stopping

  mutable std::mutex m;  // the only lock; never held across I/O or waits
  std::deque<Outbound> outbox;                             // under m: sealed, not yet sent
  std::size_t in_flight = 0;                               // under m: taken by the sender, not yet confirmed
  std::unordered_map<std::uint64_t, PendingTask> pending;  // under m: futures not yet completed
  std::uint64_t next_task = 1;                             // under m
  bool accepting = true;                                   // under m: false after shutdown
  bool draining = false;                                   // under m: threads leave once nothing is pending
  bool stopping = false;                                   // under m: threads leave now
  int threads = 0;                                         // under m: I/O threads not yet ended
  int alive = 0;                                           // under m: ...and not yet leaving
  std::vector<std::string> doomed;  // under m: stream ids of cancelled tasks, to XDEL
  WaitWord word;  // bumped when the outbox grows, pending shrinks, a thread ends, stop

  std::atomic<int> live_workers{0};
  std::atomic<std::uint64_t> duplicates{0};

  // The connections create() made, taken over by the threads.
  std::unique_ptr<Redis> send_conn, recv_conn;

  // Sets stopping, makes stop_fd readable, wakes waiters. Idempotent.
  void request_stop() noexcept;
  // Stops once nothing is pending (now, if nothing is).
  void drain() noexcept;
  // Cancels every pending future; the tasks already sent become doomed.
  void cancel_pending();

  // The threads' bodies (client_io.cpp).
  void send_loop() noexcept;
  void receive_loop() noexcept;
  // Creates the consumer group (if missing) and this client's result
  // stream, and reads the live workers: on every (re)connection.
  void setup(Redis& r);
  void read_workers(Redis& r);

 private:
  void send_batch(Link& link, std::vector<Outbound>& batch);
  void take_results(Redis& r, const Reply& streams, std::string& last);
  void housekeeping(Redis& r);
  void clean_up(bool delete_results) noexcept;
  void thread_done() noexcept;
};

}  // namespace tide::cluster
