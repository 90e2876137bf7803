// A tide Process (API.md §7): a unit of work run in a child process started
// by fork, spawn or the forkserver. The work (an encoded call) is stored in
// the shared arena before the child starts; the child completes a Future
// (a shared object) with the Outcome; the parent learns how the child ended
// from its exit status: a pidfd for fork and spawn children (our own), the
// forkserver's status message for its children. Knows nothing of Lua.
//
// Every started, not yet reaped Process is kept in a registry: starting a
// process reaps finished ones (no zombies accumulate when nobody joins),
// and the host-exit hook joins non-daemon children and terminates daemon
// ones, as Python does.
#pragma once
#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "core/deadline.hpp"
#include "core/object.hpp"
#include "future/future.hpp"
#include "thread/completion.hpp"

namespace tide::process {

enum class StartMethod { Fork, Spawn, ForkServer };

const char* method_name(StartMethod m) noexcept;
// False when `name` is not a start method.
bool method_from_name(const std::string& name, StartMethod& out) noexcept;
StartMethod default_method() noexcept;
void set_default_method(StartMethod m) noexcept;

// "SIGSEGV" for 11; "signal N" for unnamed ones.
std::string signal_name(int sig);

class Process final : public Object {
 public:
  static constexpr char kTypeName[] = "tide.Process";
  const char* type_name() const noexcept override { return kTypeName; }

  Process(Message payload, std::string name, bool daemon, StartMethod method);
  ~Process() override;

  // Stores the work and starts the child. InvalidState if started or
  // closed; TransferError if the work refers to objects no other process
  // can use; OSError if no child can be made.
  void start();
  // True once the child has exited (and is reaped); false at the deadline.
  // Throws Cancelled / Interrupted like every wait.
  bool wait(const Deadline& d);
  bool is_alive();
  // A descriptor that becomes readable (POLLIN) when the child may have
  // exited, for event loops: -1 before start and once reaped. It stays open
  // while the caller holds this Process (then check is_alive()).
  int exit_fd() const;
  bool started() const;
  // nil while running or before start; the code, or -N after signal N.
  std::optional<int> exitcode();
  // The child's result (requires it to have exited): its Outcome from the
  // Future, or WorkerDied saying how it ended without one.
  Outcome outcome();
  void send_signal(int sig);  // no-op once the child has been reaped
  // Releases the resources; InvalidState while the child runs.
  void close();
  bool closed() const;

  // Before start: descriptors the child gets at the same numbers, besides
  // those of the pipe connections in its payload (a pool's worker channel).
  void add_descriptors(std::vector<int> fds);
  // After start: a descriptor that becomes readable when the child has
  // ended (to wait on it together with others; wait() then reaps).
  int status_fd() const;

  pid_t pid() const;  // 0 before start
  std::string name() const;
  void set_name(std::string n);
  bool daemon() const;
  void set_daemon(bool d);  // InvalidState after start
  StartMethod method() const noexcept { return method_; }

  static std::string next_name();
  // Started children still running (reaping those that ended).
  static std::vector<Ref<Process>> active_children();

 private:
  bool try_reap_locked();  // true once reaped
  void release_locked() noexcept;

  mutable std::mutex m_;  // guards everything below
  Message payload_;       // until start
  std::vector<int> extra_fds_;  // until start
  std::string name_;
  bool daemon_;
  const StartMethod method_;
  bool started_ = false, reaped_ = false, closed_ = false;
  pid_t pid_ = 0;
  pid_t owner_ = 0;  // the process that started it (a fork child inherits copies)
  int pidfd_ = -1;   // for signals, and waiting on fork/spawn children
  int conn_ = -1;    // forkserver children: their status arrives here
  int status_ = 0;   // wait status once reaped
  shm::Offset stored_ = 0;
  Ref<future::Future> future_;
};

// Registers the host-exit hook (once).
void install_exit_hook();

}  // namespace tide::process
