// libFuzzer target for the forkserver's check of a request packet
// (process::forkserver::check_request): any bytes, any count of passed
// descriptors, any previous counter must be refused or accepted without a
// crash, and an accepted request must satisfy everything the server then
// relies on (descriptor numbers it dup2()s to, the child record it loads).
// Random bytes never carry a valid MAC, so byte 0 can ask for the packet
// to be signed with the key, as the real client does: the checks after
// the MAC are reached too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "process/child_record.hpp"
#include "process/forkserver.hpp"

namespace {
const std::string kKey(32, 'k');
}

// Input: byte 0 = flags (bit 0: sign it; bit 1: truncate to the input's
// length), byte 1 = descriptors passed, bytes 2-9 = the last counter,
// then the packet.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tide::process;
  using namespace tide::process::forkserver;
  if (size < 10) return 0;
  Packet p;
  std::memset(&p, 0, sizeof p);
  std::size_t body = size - 10;
  std::memcpy(&p, data + 10, std::min(body, sizeof p));
  std::uint64_t last;
  std::memcpy(&last, data + 2, sizeof last);
  if (data[0] & 1) p.mac = hmac_sha256(kKey, std::string_view(reinterpret_cast<const char*>(&p.request), sizeof p.request));
  std::size_t bytes = (data[0] & 2) ? std::min(body, sizeof p) : sizeof p;
  const char* why = check_request(p, bytes, data[1], kKey, last);
  if (why) return 0;
  // Accepted: what serve() and the child rely on holds.
  const Request& r = p.request;
  if (!(data[0] & 1) || bytes != sizeof p || r.counter <= last) std::abort();
  if (r.nfds != data[1] || r.nfds > kMaxFds) std::abort();
  std::set<int> seen;
  for (int i = 0; i < r.nfds; ++i) {
    if (r.fds[i] < 0 || r.fds[i] >= kMaxFdNumber || !seen.insert(r.fds[i]).second) std::abort();
  }
  if (check_child_info(r.info) || r.info.name_len > sizeof r.info.name) std::abort();
  return 0;
}
