// The one error type of the native core. C++ code throws tide::Error; the
// binding boundary (luabase/protect.hpp) turns it into the Lua error
// object of API.md §0 after every C++ local has been destroyed.
#pragma once
#include <exception>
#include <string>
#include <string_view>

namespace tide {

enum class ErrorKind {
  Timeout, Empty, Full, Closed, Cancelled, BrokenBarrier, TransferError,
  RemoteError, WorkerDied, BrokenPool, AbandonedLock, CalledProcessError,
  InvalidState, Interrupted, OSError, ArgumentError,
};

const char* kind_name(ErrorKind k) noexcept;
// Returns false when `name` is not a known kind.
bool kind_from_name(std::string_view name, ErrorKind& out) noexcept;

// The message keeps every byte, zeros included (what() stops at the first
// zero; the binding boundary uses message()).
class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string message, int err_no = 0)
      : message_(std::move(message)), kind_(kind), errno_(err_no) {}
  ErrorKind kind() const noexcept { return kind_; }
  int err_no() const noexcept { return errno_; }
  std::string_view message() const noexcept { return message_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
  ErrorKind kind_;
  int errno_;
};

// Throws OSError carrying errno and strerror, prefixed by `what`.
[[noreturn]] void throw_os_error(const char* what, int err);

}  // namespace tide
