// A small Redis client: one TCP connection speaking RESP2. Commands are
// formatted here; replies are parsed by hiredis's reader (redisReader), the
// parser RQ's and Celery's C clients share. Lua-free.
//
// Every blocking step (connect, send, receive) waits in wait_fds (the one
// wait path: cancellation of the calling thread, Ctrl-C on the main thread,
// a deadline). Connecting also watches an optional stop descriptor, and a
// read the caller's idle descriptor: once readable, the wait throws
// Cancelled ("stopped"). Nothing sleeps.
//
// Failures throw tide::Error: OSError with errno for the connection
// (ECONNREFUSED, ETIMEDOUT when the server does not answer within the
// timeout, ECONNRESET when it closed the connection, EPROTO for a reply
// hiredis cannot parse), naming the server but never the password. After
// any throw from send or read the connection is broken(): replies may be
// lost, so the owner drops it and connects again (see Link). An error
// *reply* (-ERR ...) is not a failure of the connection: it comes back as
// a Reply of type Error.
//
// One thread at a time: a connection has no lock.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_url.hpp"
#include "core/deadline.hpp"
#include "core/unique_fd.hpp"

struct redisReader;

namespace tide::cluster {

struct Reply {
  enum class Type : unsigned char { Nil, Status, Error, Integer, String, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;  // Status, Error, String
  std::vector<Reply> elements;

  bool is_nil() const noexcept { return type == Type::Nil; }
  bool is_error() const noexcept { return type == Type::Error; }
  bool is_array() const noexcept { return type == Type::Array; }
  // Throws OSError "Redis refused <what>: <message>" for an error reply.
  const Reply& ok(const char* what) const;
};

struct ConnectOptions {
  // Seconds allowed to connect and authenticate, and for the server to
  // answer any command beyond its own BLOCK time.
  double timeout = 5.0;
  // When readable, connecting ends with Cancelled (-1: none).
  int stop_fd = -1;
};

class Redis {
 public:
  // Connects, sends AUTH (user/password from the URL) and SELECT (db), and
  // checks the server answers. Throws OSError naming the server, or
  // Cancelled when stop_fd fires.
  static std::unique_ptr<Redis> connect(const RedisUrl& url, const ConnectOptions& options);
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Queues a command (pipelining): sent by the next read().
  void append(std::span<const std::string_view> args);
  void append(std::initializer_list<std::string_view> args) { append({args.begin(), args.size()}); }
  // Sends what is queued, then returns the next reply, waiting up to the
  // timeout plus `block_seconds` (the BLOCK of XREAD and friends).
  // `idle_fd`, when readable, also ends the wait with Cancelled: a worker's
  // graceful stop interrupts its idle XREADGROUP this way, but not its
  // other commands.
  Reply read(double block_seconds = 0, int idle_fd = -1);
  // append + read.
  Reply call(std::initializer_list<std::string_view> args, double block_seconds = 0) {
    append(args);
    return read(block_seconds);
  }
  // Replies still to be read for commands appended.
  std::size_t expected() const noexcept { return expected_; }
  bool broken() const noexcept { return broken_; }
  const RedisUrl& url() const noexcept { return url_; }

 private:
  Redis(RedisUrl url, const ConnectOptions& options, UniqueFd fd);
  [[noreturn]] void fail(int err, const std::string& what);
  // Waits for `events` on the socket (and the stop fd) until `d`.
  void wait_socket(short events, const Deadline& d, int idle_fd = -1);
  void flush(const Deadline& d);

  RedisUrl url_;
  ConnectOptions options_;
  UniqueFd fd_;
  redisReader* reader_ = nullptr;
  std::string out_;          // formatted commands not yet sent
  std::size_t expected_ = 0;
  bool broken_ = false;
};

}  // namespace tide::cluster
