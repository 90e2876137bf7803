// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for authenticating
// forkserver requests. Written here rather than linked from OpenSSL so the
// host keeps no crypto dependency for one MAC; checked against the RFC 4231
// test vectors in tests/host/process_hmac_test.cpp.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tide::process {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256() noexcept;
  void update(const void* data, std::size_t n) noexcept;
  Digest finish() noexcept;

 private:
  void block(const std::uint8_t* p) noexcept;
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

Digest sha256(std::string_view data) noexcept;
Digest hmac_sha256(std::string_view key, std::string_view message) noexcept;

// Compares without an early exit, so the time taken says nothing about
// where a forged MAC first differs.
bool digest_equal(const Digest& a, const Digest& b) noexcept;

}  // namespace tide::process
