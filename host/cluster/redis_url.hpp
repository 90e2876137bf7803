// Where a cluster pool's Redis is: redis://[user:password@]host[:port][/db]
// (the form RQ, Celery and redis-cli take). Lua-free.
#pragma once
#include <string>
#include <string_view>

namespace tide::cluster {

struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password alone (Redis < 6 style)
  std::string password;  // empty: no AUTH
  int db = 0;
  std::string spec;      // the URL as given (it may hold the password)

  // Throws ArgumentError naming what is wrong. user and password may be
  // percent-encoded (a password with '@' or ':').
  static RedisUrl parse(std::string_view url);

  // host:port (and /db when not 0), never the password: for messages.
  std::string where() const;
};

}  // namespace tide::cluster
