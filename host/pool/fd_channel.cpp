#include "pool/fd_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"

namespace tide::pool::fd_channel {

namespace {

struct Request {
  std::uint32_t count;
  std::uint64_t offsets[kMax];
};

struct Reply {
  std::uint32_t count;
  std::int32_t sent[kMax];
};

}  // namespace

Pair make() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_os_error("socketpair", errno);
  return Pair{sv[0], sv[1]};
}

void fetch(int sock, const std::vector<Ref<pipe::Connection>>& conns) noexcept {
  for (std::size_t first = 0; first < conns.size(); first += kMax) {
    std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(kMax, conns.size() - first));
    Request rq{};
    rq.count = n;
    for (std::uint32_t i = 0; i < n; ++i) rq.offsets[i] = conns[first + i]->offset();
    ssize_t w;
    do {
      w = send(sock, &rq, sizeof rq.count + n * sizeof(std::uint64_t), MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w < 0) return;
    Reply rp{};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMax)] = {};
    iovec iov{&rp, sizeof rp};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t r;
    try {
      for (;;) {
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (r >= 0 || (errno != EAGAIN && errno != EINTR)) break;
        wait_fd(sock, POLLIN, Deadline::never());
      }
    } catch (const Error&) {
      return;  // cancelled: the task goes on without the descriptors
    }
    if (r < static_cast<ssize_t>(sizeof rp.count)) return;
    std::vector<int> fds;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
      std::size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < k; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
        fds.push_back(fd);
      }
    }
    std::size_t next = 0;
    for (std::uint32_t i = 0; i < n && i < rp.count; ++i)
      if (rp.sent[i] && next < fds.size()) pipe::adopt_descriptor(*conns[first + i], fds[next++]);
    for (; next < fds.size(); ++next) close(fds[next]);  // a malformed reply
  }
}

bool serve_one(int sock) noexcept {
  Request rq{};
  ssize_t r;
  do {
    r = recv(sock, &rq, sizeof rq, MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (r < 0) return errno == EAGAIN;
  if (r < static_cast<ssize_t>(sizeof rq.count) || rq.count > kMax ||
      static_cast<std::size_t>(r) != sizeof rq.count + rq.count * sizeof(std::uint64_t)) {
    log::warn("pool: a worker sent a malformed descriptor request");
    rq.count = 0;
  }
  Reply rp{};
  rp.count = rq.count;
  std::vector<int> fds;
  for (std::uint32_t i = 0; i < rq.count; ++i) {
    int fd = pipe::descriptor_at(rq.offsets[i]);
    rp.sent[i] = fd >= 0;
    if (fd >= 0) fds.push_back(fd);
  }
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMax)] = {};
  iovec iov{&rp, sizeof rp.count + rp.count * sizeof(std::int32_t)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t w;
  do {
    w = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  return w >= 0 || errno == EAGAIN;
}

}  // namespace tide::pool::fd_channel
