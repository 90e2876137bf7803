#include "cluster/redis.hpp"

#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/wait.hpp"

namespace tide::cluster {

namespace {

std::string errno_text(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU: returns the message
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::Nil;
  }
  return out;
}

struct ReplyFree {
  void operator()(void* r) const noexcept { freeReplyObject(r); }
};

// A non-blocking connect to one address: the socket once connected.
UniqueFd connect_one(const addrinfo* ai, const Deadline& d, int stop_fd, int& err) {
  UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd) {
    err = errno;
    return {};
  }
  if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
      return {};
    }
    pollfd p[2] = {{fd.get(), POLLOUT, 0}, {stop_fd, POLLIN, 0}};
    int n = wait_fds(p, stop_fd >= 0 ? 2 : 1, d);
    if (stop_fd >= 0 && p[1].revents) throw Error(ErrorKind::Cancelled, "stopped");
    if (n == 0) {
      err = ETIMEDOUT;
      return {};
    }
    socklen_t len = sizeof err;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return {};
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // commands are small and pipelined
  return fd;
}

}  // namespace

const Reply& Reply::ok(const char* what) const {
  if (is_error()) throw Error(ErrorKind::OSError, std::string("Redis refused ") + what + ": " + str, EPROTO);
  return *this;
}

std::unique_ptr<Redis> Redis::connect(const RedisUrl& url, const ConnectOptions& options) {
  const std::string where = "Redis at " + url.where();
  Deadline d = Deadline::after(options.timeout);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    int err = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
    throw Error(ErrorKind::OSError, "cannot reach " + where + ": " + gai_strerror(rc), err);
  }
  UniqueFd fd;
  int err = ECONNREFUSED;
  try {
    for (addrinfo* ai = list; ai && !fd; ai = ai->ai_next) fd = connect_one(ai, d, options.stop_fd, err);
  } catch (...) {
    freeaddrinfo(list);
    throw;
  }
  freeaddrinfo(list);
  if (!fd) throw Error(ErrorKind::OSError, "cannot connect to " + where + ": " + errno_text(err), err);

  std::unique_ptr<Redis> r(new Redis(url, options, std::move(fd)));
  // AUTH and SELECT, then PING: a server that accepts the connection but
  // never answers (a stopped process, the wrong service) times out here.
  if (!url.password.empty()) {
    if (url.user.empty())
      r->append({"AUTH", url.password});
    else
      r->append({"AUTH", url.user, url.password});
  }
  std::string db = std::to_string(url.db);
  if (url.db != 0) r->append({"SELECT", db});
  r->append({"PING"});
  try {
    if (!url.password.empty()) {
      Reply a = r->read();
      if (a.is_error()) throw Error(ErrorKind::OSError, where + " refused the credentials: " + a.str, EACCES);
    }
    if (url.db != 0) r->read().ok(("SELECT " + db).c_str());
    Reply pong = r->read();
    if (pong.is_error()) throw Error(ErrorKind::OSError, where + " refused PING: " + pong.str, EACCES);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::OSError || e.err_no() != ETIMEDOUT) throw;
    throw Error(ErrorKind::OSError, where + " accepted the connection but did not answer within " +
                                        std::to_string(options.timeout).substr(0, 5) + " s",
                ETIMEDOUT);
  }
  return r;
}

Redis::Redis(RedisUrl url, const ConnectOptions& options, UniqueFd fd)
    : url_(std::move(url)), options_(options), fd_(std::move(fd)), reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

Redis::~Redis() {
  if (reader_) redisReaderFree(reader_);
}

void Redis::fail(int err, const std::string& what) {
  broken_ = true;
  throw Error(ErrorKind::OSError, "Redis at " + url_.where() + ": " + what, err);
}

void Redis::append(std::span<const std::string_view> args) {
  // RESP: *<argc>\r\n then $<len>\r\n<bytes>\r\n per argument.
  out_ += '*';
  out_ += std::to_string(args.size());
  out_ += "\r\n";
  for (std::string_view a : args) {
    out_ += '$';
    out_ += std::to_string(a.size());
    out_ += "\r\n";
    out_.append(a.data(), a.size());
    out_ += "\r\n";
  }
  ++expected_;
}

void Redis::wait_socket(short events, const Deadline& d, int idle_fd) {
  pollfd p[2] = {{fd_.get(), events, 0}, {idle_fd, POLLIN, 0}};
  int n;
  try {
    n = wait_fds(p, 2, d);  // a negative descriptor is ignored by poll
  } catch (...) {
    broken_ = true;  // a command may be half sent or its reply unread
    throw;
  }
  if (p[1].revents) {
    broken_ = true;
    throw Error(ErrorKind::Cancelled, "stopped");
  }
  if (n == 0) fail(ETIMEDOUT, "no answer within the timeout");
}

void Redis::flush(const Deadline& d) {
  std::size_t sent = 0;
  while (sent < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_socket(POLLOUT, d);
    } else if (n < 0 && errno != EINTR) {
      int err = errno;
      fail(err, "connection lost: " + errno_text(err));
    }
  }
  out_.clear();
}

Reply Redis::read(double block_seconds, int idle_fd) {
  if (broken_) fail(ENOTCONN, "the connection was lost before");
  if (expected_ == 0) throw Error(ErrorKind::InvalidState, "Redis::read with no command sent");
  Deadline d = Deadline::after(options_.timeout + block_seconds);
  flush(d);
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) fail(EPROTO, std::string("bad reply: ") + reader_->errstr);
    if (raw) {
      std::unique_ptr<void, ReplyFree> held(raw);
      --expected_;
      return convert(static_cast<const redisReply*>(raw));
    }
    char buf[65536];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      if (redisReaderFeed(reader_, buf, static_cast<std::size_t>(n)) != REDIS_OK)
        fail(EPROTO, std::string("bad reply: ") + reader_->errstr);
    } else if (n == 0) {
      fail(ECONNRESET, "connection closed by the server");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_socket(POLLIN, d, idle_fd);
    } else if (errno != EINTR) {
      int err = errno;
      fail(err, "connection lost: " + errno_text(err));
    }
  }
}

}  // namespace tide::cluster
