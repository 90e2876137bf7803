#include "cluster/redis_url.hpp"

#include <charconv>

#include "core/error.hpp"

namespace tide::cluster {

namespace {

// The message never repeats the URL: it may hold a password.
[[noreturn]] void bad(std::string_view, const char* why) {
  throw Error(ErrorKind::ArgumentError,
              std::string("bad Redis URL (expected redis://[user:password@]host[:port][/db]): ") + why);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string unescape(std::string_view url, std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) bad(url, "a '%' escape is cut short");
    int h = hex(s[i + 1]), l = hex(s[i + 2]);
    if (h < 0 || l < 0) bad(url, "a '%' escape is not two hex digits");
    out += static_cast<char>(h * 16 + l);
    i += 2;
  }
  return out;
}

bool number(std::string_view s, int lo, int hi, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) bad(url, "it does not start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl u;
  u.spec = std::string(url);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    if (colon == std::string_view::npos) {
      u.password = unescape(url, cred);  // redis://password@host, as redis-py reads it
    } else {
      u.user = unescape(url, cred.substr(0, colon));
      u.password = unescape(url, cred.substr(colon + 1));
    }
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !number(db, 0, 1 << 20, u.db)) bad(url, "the database is not a number");
  }
  std::string_view host = hostport;
  if (!hostport.empty() && hostport[0] == '[') {  // [::1]:6379
    auto close = hostport.find(']');
    if (close == std::string_view::npos) bad(url, "an IPv6 address lacks its ']'");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':' || !number(after.substr(1), 1, 65535, u.port)) bad(url, "the port is not 1..65535");
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    if (!number(hostport.substr(colon + 1), 1, 65535, u.port)) bad(url, "the port is not 1..65535");
  }
  if (host.empty()) bad(url, "no host");
  u.host = std::string(host);
  return u;
}

std::string RedisUrl::where() const {
  std::string s = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  s += ":" + std::to_string(port);
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

}  // namespace tide::cluster
