// The forkserver's client half: starting the server and sending requests.
#include "process/forkserver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <mutex>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "process/launch.hpp"
#include "shm/arena.hpp"

namespace tide::process::forkserver {

namespace {

std::mutex g_m;  // guards the fields below; serialises requests on g_ctl
int g_ctl = -1;
pid_t g_server = 0;
std::string g_key;
std::uint64_t g_counter = 0;

// A fork child shares our control socket: it must not use it (its requests
// would interleave with ours) nor keep it open (the server would outlive
// us). It starts its own server if it needs one. g_m is re-initialised: the
// forking thread may not be the one holding it.
void after_fork_child() {
  new (&g_m) std::mutex;
  if (g_ctl >= 0) close(g_ctl);
  g_ctl = -1;
  g_server = 0;
  g_key.clear();
}
AtFork g_at_fork{nullptr, nullptr, after_fork_child};

void start_locked() {
  if (g_ctl >= 0) return;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_os_error("socketpair", errno);
  char key[32];
  if (getrandom(key, sizeof key, 0) != static_cast<ssize_t>(sizeof key)) {
    close(sv[0]);
    close(sv[1]);
    throw_os_error("getrandom", errno);
  }
  int arena = shm::Arena::get().fd();
  pid_t pid;
  try {
    pid = spawn_command({"--forkserver", std::to_string(sv[1]), std::to_string(arena)}, {sv[1], arena});
  } catch (...) {
    close(sv[0]);
    close(sv[1]);
    throw;
  }
  close(sv[1]);
  if (send(sv[0], key, sizeof key, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof key)) {
    int e = errno;
    close(sv[0]);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw_os_error("forkserver: sending the key", e);
  }
  g_ctl = sv[0];
  g_server = pid;
  g_key.assign(key, sizeof key);
  g_counter = 0;
  log::debug("forkserver {} started", pid);
}

// The server went away (killed, crashed): forget it so the next request
// starts a new one.
void drop_server_locked() {
  if (g_ctl >= 0) close(g_ctl);
  g_ctl = -1;
  if (g_server > 0) waitpid(g_server, nullptr, WNOHANG);
  g_server = 0;
}

int send_request(const ChildInfo& info, const std::vector<int>& fds, const std::string* key, int& conn) {
  if (fds.size() > static_cast<std::size_t>(kMaxFds))
    throw Error(ErrorKind::ArgumentError, "a process can be given at most " + std::to_string(kMaxFds) + " pipe connections");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_os_error("socketpair", errno);
  struct Closer {
    int& fd;
    ~Closer() {
      if (fd >= 0) close(fd);
    }
  } c0{sv[0]}, c1{sv[1]};
  {
    std::lock_guard lock(g_m);
    for (int attempt = 0;; ++attempt) {
      start_locked();
      Packet p{};
      p.request.counter = ++g_counter;
      p.request.info = info;
      p.request.nfds = static_cast<std::int32_t>(fds.size());
      for (std::size_t i = 0; i < fds.size(); ++i) p.request.fds[i] = fds[i];
      std::string_view body(reinterpret_cast<const char*>(&p.request), sizeof p.request);
      p.mac = hmac_sha256(key ? *key : g_key, body);
      alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))] = {};
      std::vector<int> passed{sv[1]};
      passed.insert(passed.end(), fds.begin(), fds.end());
      iovec iov{&p, sizeof p};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * passed.size());
      cmsghdr* cm = CMSG_FIRSTHDR(&msg);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int) * passed.size());
      std::memcpy(CMSG_DATA(cm), passed.data(), sizeof(int) * passed.size());
      ssize_t n;
      do {
        n = sendmsg(g_ctl, &msg, MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n == static_cast<ssize_t>(sizeof p)) break;
      int e = errno;
      drop_server_locked();
      if (attempt > 0) throw_os_error("forkserver: sending a request", e);
      log::warn("forkserver was gone ({}); starting a new one", strerror(e));
    }
  }
  close(sv[1]);
  sv[1] = -1;
  // The pid comes at once (the server forks and answers). This wait is not
  // interruptible: once the request is out, a child may run with this
  // payload and future, so start() must learn its pid before anything can
  // unwind (a Ctrl-C here is seen at the next wait). A server that does not
  // answer within 30 s is taken as gone.
  Reply r{};
  for (;;) {
    pollfd pfd{sv[0], POLLIN, 0};
    int ready = poll(&pfd, 1, 30000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || (pfd.revents & POLLNVAL))
      throw Error(ErrorKind::OSError, "forkserver: no answer to a request", ready == 0 ? ETIMEDOUT : EBADF);
    ssize_t n = recv(sv[0], &r, sizeof r, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n != static_cast<ssize_t>(sizeof r) || r.kind != kPid)
      throw Error(ErrorKind::OSError, "forkserver: no answer to a request", EPIPE);
    break;
  }
  conn = std::exchange(sv[0], -1);
  return r.value;
}

}  // namespace

pid_t request(const ChildInfo& info, const std::vector<int>& fds, int& conn) {
  int pid = send_request(info, fds, nullptr, conn);
  if (pid < 0) {
    close(conn);
    conn = -1;
    throw Error(ErrorKind::OSError, std::string("forkserver: cannot start the child: ") + strerror(-pid), -pid);
  }
  return pid;
}

int probe(const std::string& key) {
  ChildInfo info{};  // no work: an accepted probe's child exits kExitBadPayload
  int conn = -1;
  int answer = send_request(info, {}, &key, conn);
  close(conn);
  return answer;
}

void stop() noexcept {
  std::lock_guard lock(g_m);
  if (g_ctl < 0) return;
  close(g_ctl);  // EOF: the server kills any child left and exits
  g_ctl = -1;
  int status;
  while (waitpid(g_server, &status, 0) < 0 && errno == EINTR) {
  }
  log::debug("forkserver {} stopped", g_server);
  g_server = 0;
}

}  // namespace tide::process::forkserver
