// The forkserver's check of a request (forkserver.hpp): everything it
// trusts about a packet is decided here, before it forks.
#include <algorithm>
#include <array>

#include "process/child_record.hpp"
#include "process/forkserver.hpp"

namespace tide::process::forkserver {

const char* check_request(const Packet& p, std::size_t bytes, std::size_t passed_fds, std::string_view key,
                          std::uint64_t last_counter) noexcept {
  if (bytes != sizeof p) return "wrong size";
  const Request& r = p.request;
  Digest mac = hmac_sha256(key, std::string_view(reinterpret_cast<const char*>(&r), sizeof r));
  if (!digest_equal(mac, p.mac)) return "failed authentication";
  if (r.counter <= last_counter) return "replayed (old counter)";
  if (r.nfds < 0 || r.nfds > kMaxFds || static_cast<std::size_t>(r.nfds) != passed_fds)
    return "descriptor count does not match";
  std::array<int, kMaxFds> sorted{};
  for (int i = 0; i < r.nfds; ++i) {
    if (r.fds[i] < 0 || r.fds[i] >= kMaxFdNumber) return "descriptor number out of range";
    sorted[i] = r.fds[i];
  }
  std::sort(sorted.begin(), sorted.begin() + r.nfds);
  if (std::adjacent_find(sorted.begin(), sorted.begin() + r.nfds) != sorted.begin() + r.nfds)
    return "descriptor number given twice";
  if (const char* why = check_child_info(r.info)) return why;
  return nullptr;
}

}  // namespace tide::process::forkserver
