#include "cluster/link.hpp"

#include <poll.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"

namespace tide::cluster {

Link::Link(RedisUrl url, ConnectOptions options, std::string who, OnConnect on_connect)
    : url_(std::move(url)), options_(options), who_(std::move(who)), on_connect_(std::move(on_connect)) {}

void Link::pause(double seconds) {
  if (options_.stop_fd < 0) return sleep_for(seconds);
  if (wait_fd(options_.stop_fd, POLLIN, Deadline::after(seconds)))
    throw Error(ErrorKind::Cancelled, "stopped");
}

void Link::lost(const std::exception& why) noexcept {
  if (redis_ && failures_ == 0)
    log::warn("{}: lost the connection to Redis at {} ({}); reconnecting", who_, url_.where(), why.what());
  redis_.reset();
}

Redis& Link::get() {
  while (!redis_ || redis_->broken()) {
    redis_.reset();
    if (failures_ > 0) pause(std::min(2.0, 0.05 * (1 << std::min(failures_ - 1, 6))));
    try {
      auto r = Redis::connect(url_, options_);
      if (on_connect_) on_connect_(*r);
      redis_ = std::move(r);
      if (failures_ > 0) log::info("{}: connected to Redis at {} again", who_, url_.where());
      failures_ = 0;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::OSError) throw;
      if (failures_ == 0 || failures_ % 20 == 0)
        log::warn("{}: cannot reach Redis at {} ({}); retrying", who_, url_.where(), e.what());
      ++failures_;
    }
  }
  return *redis_;
}

}  // namespace tide::cluster
