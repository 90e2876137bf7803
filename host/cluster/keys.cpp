#include "cluster/keys.hpp"

#include <unistd.h>

#include "core/error.hpp"

namespace tide::cluster {

void check_queue_name(std::string_view queue) {
  if (queue.empty() || queue.size() > 200)
    throw Error(ErrorKind::ArgumentError, "queue must be a name of 1 to 200 characters");
  for (char c : queue) {
    if (c <= ' ' || c == '{' || c == '}' || c == 0x7f)
      throw Error(ErrorKind::ArgumentError, "queue name '" + std::string(queue) +
                                                "' has a space, brace or control character");
  }
}

std::string process_label() {
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0';
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace tide::cluster
