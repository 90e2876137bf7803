// pipe.wait: one poll over every connection's descriptor (plus the wake
// descriptor of the one wait mechanism), after looking at the receive
// buffers and lanes, which may already hold whole messages.
#include <poll.h>

#include <memory>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "pipe/conn_data.hpp"
#include "pipe/connection.hpp"
#include "pipe/local.hpp"

namespace tide::pipe {

std::vector<std::size_t> wait_ready(std::span<Connection* const> conns, const Deadline& d) {
  const std::size_t n = conns.size();
  std::vector<std::unique_ptr<FdUse>> uses;  // keeps each descriptor open while polled
  uses.reserve(n);
  std::vector<pollfd> fds(n);
  for (std::size_t i = 0; i < n; ++i) {
    Connection* c = conns[i];
    uses.push_back(std::make_unique<FdUse>(c->local()));
    if (!c->readable())
      throw Error(ErrorKind::ArgumentError, "connection " + std::to_string(i + 1) + " only sends");
  }
  std::vector<bool> waiting(n);
  for (;;) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) any = any || (waiting[i] = conns[i]->message_waiting());
    if (!any)
      for (std::size_t i = 0; i < n; ++i) any = any || (waiting[i] = conns[i]->arm_wake());
    for (std::size_t i = 0; i < n; ++i) fds[i] = {uses[i]->fd(), POLLIN, 0};
    // With a message already waiting, only look (timeout 0) at the others.
    wait_fds(fds.data(), static_cast<int>(n), any ? Deadline::after(0) : d);
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < n; ++i)
      if (waiting[i] || (fds[i].revents && conns[i]->settle(fds[i].fd))) ready.push_back(i);
    // Only Wake frames came (lane.hpp): wait again.
    if (!ready.empty() || any || d.passed()) return ready;
  }
}

}  // namespace tide::pipe
