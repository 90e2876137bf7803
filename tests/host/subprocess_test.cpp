// Unit tests of tide.subprocess's Lua-free core (host/subprocess): spawn's
// file actions and error reporting, Child waits and signals, Stream reads
// and writes, exchange (communicate), the note_signal dispatcher hook.
// Children are ordered by pipes and their own exit, never by sleeps.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "subprocess/child.hpp"
#include "subprocess/communicate.hpp"
#include "subprocess/spawn.hpp"
#include "subprocess/stream.hpp"
#include "test_util.hpp"

using namespace tide;
using namespace tide::subprocess;
using test_util::thrown_kind;

namespace {

SpawnSpec command(std::initializer_list<const char*> argv) {
  SpawnSpec s;
  for (const char* a : argv) s.argv.emplace_back(a);
  return s;
}

SpawnSpec piped(std::initializer_list<const char*> argv, bool in, bool out, bool err) {
  SpawnSpec s = command(argv);
  if (in) s.stdio[0].kind = StdioChoice::Pipe;
  if (out) s.stdio[1].kind = StdioChoice::Pipe;
  if (err) s.stdio[2].kind = StdioChoice::Pipe;
  return s;
}

int os_error(const SpawnSpec& spec) {
  try {
    spawn(spec);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::OSError);
    return e.err_no();
  }
  FAIL_CHECK("spawn did not throw");
  return 0;
}

}  // namespace

TEST_SUITE("subprocess") {

TEST_CASE("spawn runs a command and wait returns its exit code") {
  Spawned s = spawn(command({"sh", "-c", "exit 7"}));
  REQUIRE(s.child);
  CHECK(s.child->pid() > 0);
  CHECK(s.child->wait(Deadline::never()) == 7);
  CHECK(s.child->returncode() == 7);
  CHECK(s.child->poll() == 7);
}

TEST_CASE("a command that cannot run throws OSError with errno, in the parent") {
  CHECK(os_error(command({"no-such-command-for-tide"})) == ENOENT);
  CHECK(os_error(command({"/no/such/path"})) == ENOENT);
  CHECK(os_error(command({"/etc"})) == EACCES);
  SpawnSpec s = command({"true"});
  s.cwd = "/no/such/dir";
  try {
    spawn(s);
    FAIL_CHECK("spawn did not throw");
  } catch (const Error& e) {
    CHECK(e.err_no() == ENOENT);
    CHECK(std::string(e.what()).find("cwd '/no/such/dir'") != std::string::npos);
  }
  CHECK(thrown_kind([] { spawn(SpawnSpec{}); }) == ErrorKind::ArgumentError);
}

TEST_CASE("Pipe choices give the parent non-blocking, close-on-exec ends") {
  Spawned s = spawn(piped({"cat"}, true, true, false));
  for (int i : {0, 1}) {
    REQUIRE(s.pipes[i]);
    CHECK((fcntl(s.pipes[i].get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(s.pipes[i].get(), F_GETFL) & O_NONBLOCK) != 0);
  }
  CHECK_FALSE(s.pipes[2]);
  Stream in(std::move(s.pipes[0]), "stdin", true), out(std::move(s.pipes[1]), "stdout", false);
  in.write("hello\nworld");
  in.close();
  CHECK(out.read_line(false) == std::string_view("hello"));
  CHECK(out.read_line(true) == std::string_view("world"));
  CHECK_FALSE(out.read_line(false));
  CHECK_FALSE(out.read(1));
  CHECK(s.child->wait(Deadline::never()) == 0);
}

TEST_CASE("Stream::read(n) returns n bytes unless the end comes first") {
  Spawned s = spawn(piped({"head", "-c", "200000", "/dev/zero"}, false, true, false));
  Stream out(std::move(s.pipes[1]), "stdout", false);
  std::size_t total = 0;
  while (auto v = out.read(65536)) {
    CHECK((v->size() == 65536 || total + v->size() == 200000));
    total += v->size();
  }
  CHECK(total == 200000);
  CHECK(out.read_all().empty());
  CHECK(s.child->wait(Deadline::never()) == 0);
}

TEST_CASE("writing to a child that exited is OSError EPIPE, not SIGPIPE") {
  Spawned s = spawn(piped({"true"}, true, false, false));
  CHECK(s.child->wait(Deadline::never()) == 0);
  Stream in(std::move(s.pipes[0]), "stdin", true);
  try {
    in.write(std::string(1 << 20, 'x'));
    FAIL_CHECK("write did not throw");
  } catch (const Error& e) {
    CHECK(e.err_no() == EPIPE);
  }
  sigset_t pending;
  sigpending(&pending);
  CHECK_FALSE(sigismember(&pending, SIGPIPE));
}

TEST_CASE("exchange feeds input and drains both outputs without deadlock") {
  Spawned s = spawn(piped({"sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2; wc -c"},
                          true, true, true));
  Stream in(std::move(s.pipes[0]), "stdin", true), out(std::move(s.pipes[1]), "stdout", false),
      err(std::move(s.pipes[2]), "stderr", false);
  Exchange x;
  x.input.assign(500000, 'i');
  CHECK(exchange(&in, &out, &err, x, Deadline::never()));
  CHECK(x.err.size() == 300000);
  CHECK(x.out.size() == 300000 + 7);
  CHECK(x.out.substr(300000) == "500000\n");
  CHECK(in.closed());
  CHECK(out.closed());
  CHECK(s.child->wait(Deadline::never()) == 0);
}

TEST_CASE("exchange returns false at the deadline and keeps what it read") {
  int block[2];
  REQUIRE(pipe2(block, O_CLOEXEC) == 0);
  SpawnSpec spec = piped({"sh", "-c", "echo early; exec cat"}, false, true, false);
  spec.stdio[0] = {StdioChoice::Fd, block[0]};
  Spawned s = spawn(spec);
  Stream out(std::move(s.pipes[1]), "stdout", false);
  Exchange x;
  CHECK_FALSE(exchange(nullptr, &out, nullptr, x, Deadline::after(0.2)));
  CHECK(x.out == "early\n");
  CHECK_FALSE(s.child->wait(Deadline::after(0)));
  s.child->kill_and_reap();
  CHECK(s.child->returncode() == -SIGKILL);
  close(block[0]);
  close(block[1]);
}

TEST_CASE("new_session: the child leads its own group; signal_group reaches its children") {
  int block[2];
  REQUIRE(pipe2(block, O_CLOEXEC) == 0);
  SpawnSpec spec = piped({"sh", "-c", "exec 3<&0; cat <&3 & echo $!; wait"}, false, true, false);
  spec.stdio[0] = {StdioChoice::Fd, block[0]};
  spec.new_session = true;
  Spawned s = spawn(spec);
  CHECK(getpgid(s.child->pid()) == s.child->pid());
  Stream out(std::move(s.pipes[1]), "stdout", false);
  auto line = out.read_line(false);
  REQUIRE(line);
  pid_t grandchild = std::stoi(std::string(*line));
  CHECK(getpgid(grandchild) == s.child->pid());
  s.child->signal_group(SIGTERM);
  CHECK(s.child->wait(Deadline::never()) == -SIGTERM);
  CHECK_FALSE(out.read_line(false));  // the grandchild died too: nobody holds the pipe
  close(block[0]);
  close(block[1]);
}

TEST_CASE("a wait on a child is cancellable from another thread") {
  int block[2];
  REQUIRE(pipe2(block, O_CLOEXEC) == 0);
  SpawnSpec spec = command({"cat"});
  spec.stdio[0] = {StdioChoice::Fd, block[0]};
  Spawned s = spawn(spec);
  std::atomic<WaitContext*> ctx{nullptr};
  std::atomic<bool> cancelled{false};
  std::thread t([&] {
    ctx = &WaitContext::current();
    try {
      s.child->wait(Deadline::never());
    } catch (const Error& e) {
      cancelled = e.kind() == ErrorKind::Cancelled;
    }
  });
  // Cancel until it lands: request_cancel before the wait starts is also seen.
  while (!ctx.load()) std::this_thread::yield();
  ctx.load()->request_cancel();
  t.join();
  CHECK(cancelled);
  s.child->kill_and_reap();
  CHECK(s.child->returncode() == -SIGKILL);
  close(block[0]);
  close(block[1]);
}

TEST_CASE("environment helpers: replace, add, keep order") {
  std::vector<std::string> env{"A=1", "B=2"};
  apply_environment(env, {{"B", "3"}, {"C", "4"}, {"AB", "5"}});
  CHECK(env == std::vector<std::string>{"A=1", "B=3", "C=4", "AB=5"});
  SpawnSpec s = command({"/usr/bin/env"});
  s.env = std::vector<std::string>{"ONLY=this"};
  s.stdio[1].kind = StdioChoice::Pipe;
  Spawned sp = spawn(s);
  Stream out(std::move(sp.pipes[1]), "stdout", false);
  CHECK(out.read_all() == "ONLY=this\n");
  CHECK(sp.child->wait(Deadline::never()) == 0);
}

}  // TEST_SUITE
