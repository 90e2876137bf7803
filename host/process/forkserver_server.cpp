// The forkserver's server half (see forkserver.hpp): one thread, one poll
// loop over the control socket and a signalfd for SIGCHLD.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <map>
#include <vector>

#include "core/log.hpp"
#include "process/forkserver.hpp"
#include "shm/arena.hpp"

namespace tide::process::forkserver {

namespace {

void reply(int conn, std::int32_t kind, std::int32_t value) noexcept {
  Reply r{kind, value};
  send(conn, &r, sizeof r, MSG_NOSIGNAL);
}

// Receives one request packet and the descriptors riding with it. Returns
// the byte count (0: EOF); `fds` gets the descriptors (the child's
// connection first), empty if none came.
ssize_t receive(int ctl, Packet& p, std::vector<int>& fds) {
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))] = {};
  iovec iov{&p, sizeof p};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  do {
    n = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  fds.clear();
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  return n;
}

void close_all(const std::vector<int>& fds) noexcept {
  for (int fd : fds) close(fd);
}

// In the child: gives each received descriptor the number it has in the
// parent (pipe connections store their numbers in shared data). First all
// move above every target, so no placement clobbers another one's source.
void place_descriptors(const std::vector<int>& got, const Request& r) noexcept {
  int top = 0;
  for (int i = 0; i < r.nfds; ++i) top = std::max(top, r.fds[i]);
  std::vector<int> moved;
  for (int fd : got) {
    moved.push_back(fcntl(fd, F_DUPFD_CLOEXEC, top + 1));
    close(fd);
  }
  for (int i = 0; i < r.nfds; ++i) {
    if (moved[i] < 0) continue;
    dup2(moved[i], r.fds[i]);  // dup2 leaves the new number inheritable
    fcntl(r.fds[i], F_SETFD, FD_CLOEXEC);
    close(moved[i]);
  }
}

}  // namespace

int serve(int ctl, int arena_fd) {
  log::set_thread_name("forkserver");
  char key[32];
  ssize_t got;
  do {
    got = recv(ctl, key, sizeof key, 0);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof key)) return 2;
  const std::string secret(key, sizeof key);
  std::memset(key, 0, sizeof key);
  shm::Arena::adopt(arena_fd);
  // One state made before any fork: each child runs its work in its own
  // copy of it, so a child costs a fork, not a state setup.
  void* prepared = prepare_child_work();

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 2;

  std::map<pid_t, int> children;  // pid -> connection awaiting its status
  std::uint64_t last_counter = 0;
  pid_t self = getpid();
  for (;;) {
    pollfd fds[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        auto it = children.find(pid);
        if (it == children.end()) continue;
        reply(it->second, kStatus, status);
        close(it->second);
        children.erase(it);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      Packet p;
      std::vector<int> passed;
      ssize_t n = receive(ctl, p, passed);
      if (n <= 0) {
        close_all(passed);
        break;  // the parent is gone (or closed us at exit)
      }
      if (passed.empty()) continue;
      int conn = passed.front();
      std::vector<int> payload_fds(passed.begin() + 1, passed.end());
      if (const char* why = check_request(p, static_cast<std::size_t>(n), payload_fds.size(), secret, last_counter)) {
        log::warn("forkserver: refused a request: {}", why);
        reply(conn, kPid, -EACCES);
        close_all(passed);
        continue;
      }
      last_counter = p.request.counter;
      pid_t pid = fork();
      if (pid == 0) {
        close(ctl);
        close(sfd);
        for (auto& [_, c] : children) close(c);
        close(conn);
        place_descriptors(payload_fds, p.request);
        prepare_child(self);
        _exit(run_child(p.request.info, prepared));
      }
      close_all(payload_fds);  // the child has its copies
      if (pid < 0) {
        reply(conn, kPid, -errno);
        close(conn);
        continue;
      }
      log::debug("forkserver: child {} started", pid);
      reply(conn, kPid, pid);
      children.emplace(pid, conn);
    }
  }
  // No child outlives the server's parent.
  for (auto& [pid, conn] : children) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(conn);
  }
  return 0;
}

}  // namespace tide::process::forkserver
