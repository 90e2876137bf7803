#include "core/error.hpp"

#include <cstring>
#include <string>

namespace tide {

const char* Error::kind_name() const noexcept { return tide::kind_name(kind_); }

namespace {
constexpr const char* kNames[] = {
    "Timeout",       "Empty",       "Full",        "Closed",
    "Cancelled",     "BrokenBarrier", "TransferError", "RemoteError",
    "WorkerDied",    "BrokenPool",  "AbandonedLock", "CalledProcessError",
    "InvalidState",  "Interrupted", "OSError",     "ArgumentError",
};
}  // namespace

const char* kind_name(ErrorKind k) noexcept { return kNames[static_cast<int>(k)]; }

bool kind_from_name(std::string_view name, ErrorKind& out) noexcept {
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i) {
    if (name == kNames[i]) {
      out = static_cast<ErrorKind>(i);
      return true;
    }
  }
  return false;
}

void throw_os_error(const char* what, int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (maybe not buf).
  const char* msg = strerror_r(err, buf, sizeof buf);
  throw Error(ErrorKind::OSError, std::string(what) + ": " + msg, err);
}

}  // namespace tide
