// The one error type of the native core. C++ code throws tide::Error; the
// binding boundary (luabase/protect.hpp) turns it into the Lua error
// object of API.md §0 after every C++ local has been destroyed. It is also
// what the embedding API (tide.hpp) throws to its callers, so this header
// is installed with it and needs nothing but the standard library.
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
  Error(ErrorKind kind, std::string message, std::string traceback)
      : message_(std::move(message)), kind_(kind), errno_(0), traceback_(std::move(traceback)) {}
  ErrorKind kind() const noexcept { return kind_; }
  const char* kind_name() const noexcept;
  int err_no() const noexcept { return errno_; }
  std::string_view message() const noexcept { return message_; }
  const char* what() const noexcept override { return message_.c_str(); }
  // Where a Lua error was raised (errors from Lua code); may be empty.
  const std::string& traceback() const noexcept { return traceback_; }

 private:
  std::string message_;
  ErrorKind kind_;
  int errno_;
  std::string traceback_;
};

// Lua code that a wait ran at its safe point (a tide.signal handler) raised:
// the error value waits in that Lua state's registry and the binding
// boundary (protect) raises it in place of this exception. It is an
// Interrupted Error for C++ code that is not a binding: a wait at host exit
// stops as it would for Ctrl-C.
class PendingLuaError : public Error {
 public:
  PendingLuaError() : Error(ErrorKind::Interrupted, "a signal handler raised an error") {}
};

// Throws OSError carrying errno and strerror, prefixed by `what`.
[[noreturn]] void throw_os_error(const char* what, int err);

}  // namespace tide
