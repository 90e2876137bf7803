// A tide Thread: one unit of work run on a (warm) OS thread, with a name,
// a daemon flag, cooperative cancellation and a Completion to join on.
// What it runs is a ThreadBody supplied by the runtime (a Lua call in a
// fresh state); this layer knows nothing of Lua.
#pragma once
#include <pthread.h>
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/object.hpp"
#include "core/wait.hpp"
#include "thread/completion.hpp"

namespace tide {

class Thread;

class ThreadBody {
 public:
  virtual ~ThreadBody() = default;
  // Runs on the thread's OS thread and returns how it ended. Must not throw.
  virtual Outcome run(Thread& self) noexcept = 0;
};

class Thread final : public Object {
 public:
  static constexpr char kTypeName[] = "tide.Thread";
  const char* type_name() const noexcept override { return kTypeName; }

  // A not-yet-started thread. `delay` >= 0 makes it a Timer: the body runs
  // after that many seconds unless cancel() came first.
  Thread(std::unique_ptr<ThreadBody> body, std::string name, bool daemon, double delay = -1);
  ~Thread() override;

  void start();   // InvalidState if already started
  void cancel();  // cooperative; a Timer still waiting never runs its body
  bool wait(const Deadline& d) { return completion_.wait(d); }
  bool started() const;
  bool is_alive() const;
  bool is_timer() const noexcept { return delay_ >= 0; }
  const char* status_name() const;

  std::string name() const;
  void set_name(std::string name);
  bool daemon() const;
  void set_daemon(bool daemon);  // InvalidState after start
  pid_t ident() const;           // native thread id; 0 before start

  Completion& completion() noexcept { return completion_; }
  // Marks a failure as seen by a joiner, so it is not logged as unhandled.
  void mark_error_observed() noexcept { error_observed_ = true; }

  // The Thread running on the calling OS thread; the main thread has one
  // named "MainThread"; other foreign threads get a "Dummy-N" one.
  static Ref<Thread> current();
  static Ref<Thread> main();
  static bool is_main();
  static std::vector<Ref<Thread>> enumerate();  // alive ones, main included
  static std::string next_name(const char* prefix = "Thread");

  // Host exit: cancels daemon threads, waits for the others (interruptible
  // by SIGINT, which then cancels them too), then for the cancelled ones up
  // to `grace` seconds. With `interrupted` (the script ended on Ctrl-C) the
  // others are cancelled at once too: one Ctrl-C ends the program.
  // Returns false if some thread is still running.
  static bool shutdown_all(bool interrupted = false, double grace = 2.0);

 private:
  struct Adopted {};
  Thread(Adopted, std::string name);  // MainThread / Dummy threads
  void run() noexcept;

  mutable std::mutex m_;  // guards the fields below it
  std::string name_;
  bool daemon_ = false;
  bool started_ = false;
  bool cancel_requested_ = false;
  bool adopted_ = false;
  pid_t ident_ = 0;
  WaitContext* ctx_ = nullptr;  // set while the body runs on an OS thread
  pthread_t os_thread_{};

  std::unique_ptr<ThreadBody> body_;
  double delay_ = -1;  // >= 0: a Timer
  WaitWord timer_word_;
  Completion completion_;
  std::atomic<bool> error_observed_{false};
};

}  // namespace tide
