#include "cluster/secret.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace tide::cluster {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_os_error(("cannot read the key file '" + path + "'").c_str(), errno ? errno : ENOENT);
  std::ostringstream s;
  s << in.rdbuf();
  std::string key = s.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  return key;
}

std::string key_from_environment() {
  const char* k = std::getenv("TIDE_CLUSTER_KEY");
  return k ? std::string(k) : std::string();
}

void check_key(std::string_view key, const char* source) {
  if (key.empty())
    throw Error(ErrorKind::ArgumentError,
                "tide.cluster needs a shared key: key=, key_file= (tide worker: --key-file) or TIDE_CLUSTER_KEY");
  if (key.size() < kMinKeyBytes)
    throw Error(ErrorKind::ArgumentError, std::string("the shared key from ") + source + " has " +
                                              std::to_string(key.size()) + " bytes; at least " +
                                              std::to_string(kMinKeyBytes) + " are needed");
}

}  // namespace tide::cluster
