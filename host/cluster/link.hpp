// A Redis connection that comes back: get() returns a live connection,
// connecting again after a failure (a Redis restart, a dropped socket), with
// pauses growing from 50 ms to 2 s between attempts. The pauses wait on the
// stop descriptor through the one wait path, so stopping is immediate.
// on_connect runs after every (re)connection, to set up again what the
// owner relies on (a consumer group, its result stream). One thread.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "cluster/redis.hpp"

namespace tide::cluster {

class Link {
 public:
  using OnConnect = std::function<void(Redis&)>;
  // `who` names the owner in log lines ("client 'x'", "worker 'h:1:0'").
  Link(RedisUrl url, ConnectOptions options, std::string who, OnConnect on_connect = {});

  // The first connection, made by the caller (so a failure reaches it).
  void adopt(std::unique_ptr<Redis> r) noexcept { redis_ = std::move(r); }
  // A live connection. Throws Cancelled once stopped; never OSError.
  Redis& get();
  // Marks the current connection lost (after an OSError from it).
  void lost(const std::exception& why) noexcept;
  const RedisUrl& url() const noexcept { return url_; }
  const ConnectOptions& options() const noexcept { return options_; }

 private:
  void pause(double seconds);

  RedisUrl url_;
  ConnectOptions options_;
  std::string who_;
  OnConnect on_connect_;
  std::unique_ptr<Redis> redis_;
  int failures_ = 0;
};

}  // namespace tide::cluster
