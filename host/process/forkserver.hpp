// The forkserver start method. On first use the parent spawns
// `tide --forkserver CTL_FD ARENA_FD`: a single-threaded process that maps
// the parent's arena, makes one fresh Lua state, and then forks a child per
// request. Forking from there is safe however many threads the parent has,
// and cheaper than spawning (no exec, no state setup per child).
//
// Channels. CTL is one end of a private SOCK_SEQPACKET socketpair; its first
// message is the per-run 32-byte random key (never on the command line,
// where /proc would show it). Each request is one packet
//   Request{counter, ChildInfo} + HMAC-SHA256(key, that request)
// carrying, by SCM_RIGHTS, one end of a fresh socketpair: the child's
// connection. The server answers on the connection with the child's pid
// (or -errno when it refused or could not fork), and later with the child's
// wait status. The counter must grow, so a captured request cannot be
// replayed. A request with a wrong MAC is refused and logged.
//
// Lifetime. The server exits, killing its children, when CTL reaches EOF:
// the parent exited or was killed (the kernel closes its descriptors even
// after SIGKILL), independent of which parent thread started it. Its
// children die with it through PR_SET_PDEATHSIG.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "process/child.hpp"
#include "process/hmac.hpp"

namespace tide::process::forkserver {

// Descriptors a child needs at the numbers they have in the parent (pipe
// connections in its payload) ride with the request by SCM_RIGHTS after the
// child's connection; `fds` says which number each must get.
inline constexpr int kMaxFds = 250;  // SCM_RIGHTS carries at most 253 per message

struct Request {
  std::uint64_t counter;
  ChildInfo info;
  std::int32_t nfds = 0;
  std::int32_t fds[kMaxFds] = {};
};

struct Packet {
  Request request;
  Digest mac;
};

// The server's reply on a child connection.
struct Reply {
  std::int32_t kind;   // kPid or kStatus
  std::int32_t value;  // pid (or -errno), or the wait status
};
inline constexpr std::int32_t kPid = 1;
inline constexpr std::int32_t kStatus = 2;

// Client side. Starts the server if needed, sends the request and returns
// the child's pid; `conn` receives the connection the exit status will
// arrive on (close-on-exec). Throws OSError.
pid_t request(const ChildInfo& info, const std::vector<int>& fds, int& conn);

// Sends a request signed with `key` instead of the run's key (tests of the
// authentication) and returns the server's answer: a pid, or -errno
// (-EACCES: refused).
int probe(const std::string& key);

// Closes the control channel and reaps the server (host exit).
void stop() noexcept;

// Server side: `tide --forkserver CTL_FD ARENA_FD`. Returns the exit status.
int serve(int ctl, int arena_fd);

// Server side: why a received request is refused, or nullptr to accept it.
// `bytes` is what arrived, `passed_fds` how many descriptors came after the
// child's connection. Checks the size, the MAC (with `key`), the counter
// (must exceed `last_counter`), the descriptor list (counted, each a
// distinct number in [0, kMaxFdNumber)) and the child record
// (check_child_info). Fuzzed by tests/fuzz/forkserver_request.cpp.
inline constexpr int kMaxFdNumber = 1 << 20;
const char* check_request(const Packet& p, std::size_t bytes, std::size_t passed_fds, std::string_view key,
                          std::uint64_t last_counter) noexcept;

}  // namespace tide::process::forkserver
