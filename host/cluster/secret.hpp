// The shared key of a cluster queue, as clients and workers load it:
// key= (client), a key file (key_file= / --key-file), or the
// TIDE_CLUSTER_KEY environment variable, in that order. Lua-free.
#pragma once
#include <string>
#include <string_view>

namespace tide::cluster {

// Keys shorter than this are refused: HMAC-SHA256 is only as strong as
// its key.
inline constexpr std::size_t kMinKeyBytes = 16;

// The file's bytes without trailing newlines or spaces. OSError if it
// cannot be read.
std::string read_key_file(const std::string& path);

// The key from TIDE_CLUSTER_KEY, or empty.
std::string key_from_environment();

// ArgumentError unless `key` is long enough; `source` says where it came from.
void check_key(std::string_view key, const char* source);

}  // namespace tide::cluster
