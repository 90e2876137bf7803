// The outcome of a unit of work (a thread now, a future later): a state that
// moves once from pending/running to completed, failed or cancelled, the
// values or error that came with it, and the one wait path to block on it.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>

#include "core/message.hpp"
#include "core/error.hpp"
#include "core/wait.hpp"

namespace tide {

enum class CompletionState : std::uint32_t { Pending, Running, Completed, Failed, Cancelled };

struct Outcome {
  CompletionState state = CompletionState::Completed;
  Message values;         // results (Completed) or the error value (Failed)
  std::string text;       // Failed: tostring of the error value
  std::string traceback;  // Failed: the worker's traceback
  // Failed: RemoteError when the work raised (values hold the error);
  // WorkerDied when the worker ended without a result (text says how).
  ErrorKind failure_kind = ErrorKind::RemoteError;
  std::string worker;  // Failed: the pool worker that ran it (empty: none)
  // WorkerDied of a process: its exit code, -N after signal N (Python's
  // Process.exitcode), when has_exitcode.
  bool has_exitcode = false;
  int exitcode = 0;
};

class Completion {
 public:
  CompletionState state() const noexcept { return state_.load(std::memory_order_acquire); }
  bool done() const noexcept { return state() >= CompletionState::Completed; }

  // Pending -> Running; false if no longer pending (e.g. cancelled).
  bool start_running() noexcept;
  // Sets the final outcome once; false if it was already final.
  bool finish(Outcome outcome);
  // Pending -> Cancelled only (work that started cannot be cancelled here).
  bool cancel_pending();

  // True once done, false at the deadline. Throws Cancelled/Interrupted for
  // the waiting thread.
  bool wait(const Deadline& deadline);

  // In a fork child only: the mutex may have been held by a thread that
  // does not exist there.
  void reset_after_fork() noexcept { new (&m_) std::mutex; }

  // Readable once done(); immutable from then on.
  const Outcome& outcome() const noexcept { return outcome_; }

 private:
  std::mutex m_;  // serialises finish and cancel_pending
  std::atomic<CompletionState> state_{CompletionState::Pending};
  WaitWord word_;
  Outcome outcome_;
};

}  // namespace tide
