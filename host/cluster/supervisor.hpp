// `tide worker --processes`: N worker processes, each the tide command
// itself (`tide worker --concurrency 1 ... --supervised PID`), started in
// their own session (a terminal's Ctrl-C reaches only the supervisor, which
// passes each stop signal on) and dying with it (PR_SET_PDEATHSIG). A child
// that ends while the supervisor is not stopping is started again (its
// task is reclaimed by the others); a slot whose children keep failing at
// once (5 in a row within a second of starting) is given up. Lua-free.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cluster/worker.hpp"
#include "core/object.hpp"
#include "thread/thread.hpp"

namespace tide::cluster {

struct SupervisorShared;

class Supervisor {
 public:
  // `options` as the children should run (concurrency = how many children);
  // `key_file` empty: they read TIDE_CLUSTER_KEY, as this process did.
  Supervisor(const WorkerOptions& options, std::string key_file, std::string tide_exe, int done_fd);
  ~Supervisor();
  void start();
  // Passes the stop to every child (SIGTERM); `now` as a second signal.
  void stop(bool now) noexcept;
  bool done() const noexcept;

 private:
  std::shared_ptr<SupervisorShared> s_;
  std::vector<Ref<Thread>> slots_;
};

}  // namespace tide::cluster
