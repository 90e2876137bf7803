// The Redis keys of one cluster queue. The queue name sits in a hash tag
// ({name}) so a Redis Cluster keeps all of a queue's keys on one node.
//   tide:{q}:tasks             the task stream (consumer group kGroup)
//   tide:{q}:dead              dead letters: refused and undeliverable tasks
//   tide:{q}:workers           hash: worker process -> "unix_ms concurrency heartbeat_ms"
//   tide:{q}:seen:<nonce hex>  a task's nonce -> the stream id it arrived as
//   tide:{q}:results:<client>  one client's result stream
#pragma once
#include <string>
#include <string_view>

namespace tide::cluster {

inline constexpr const char* kGroup = "tide";
// Dead letters kept (approximately; older ones are trimmed).
inline constexpr const char* kDeadMaxLen = "10000";

struct Keys {
  explicit Keys(std::string_view queue)
      : queue(queue),
        prefix("tide:{" + std::string(queue) + "}:"),
        tasks(prefix + "tasks"),
        dead(prefix + "dead"),
        workers(prefix + "workers") {}

  std::string seen(std::string_view nonce_hex) const { return prefix + "seen:" + std::string(nonce_hex); }
  std::string results(std::string_view client) const { return prefix + "results:" + std::string(client); }

  std::string queue, prefix, tasks, dead, workers;
};

// Throws ArgumentError unless `queue` is 1..200 printable characters
// without braces (they would break the hash tag) or spaces.
void check_queue_name(std::string_view queue);

// "host:pid": how a process names itself in consumer and client ids.
std::string process_label();

}  // namespace tide::cluster
