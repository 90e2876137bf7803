// tide.subprocess's binding, shared by its three files: subprocess.cpp (the
// module, Popen, run, check_output), subprocess_stream.cpp (Popen's
// streams) and subprocess_options.cpp (arguments and options).
//
// Every C++ object a call needs (the spawn spec, the child, what
// communicate read) lives in a userdata (a Job), never in a local of the C
// function, so a Lua error raised on any path skips no destructor.
#pragma once
#include <lua.hpp>

#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/deadline.hpp"
#include "subprocess/child.hpp"
#include "subprocess/communicate.hpp"
#include "subprocess/spawn.hpp"
#include "subprocess/stream.hpp"

namespace tide::sub {

inline constexpr const char* kPopenMeta = "tide.Popen";
inline constexpr const char* kStreamMeta = "tide.subprocess.Stream";

// What a Popen owns (the userdata's memory); run uses a Popen too.
struct Job {
  subprocess::SpawnSpec spec;  // until spawned
  std::vector<std::pair<std::string, std::string>> env, env_add;  // options read, until spawned
  std::shared_ptr<subprocess::Child> child;
  subprocess::Exchange x;
  // Streams of other Popens given as choices (pipelines): closed in this
  // process once the child has them, so EOF reaches the next command.
  subprocess::Stream* close_after[3] = {nullptr, nullptr, nullptr};
  bool piped[3] = {false, false, false};
};

// A userdata's memory holding one T that __gc destroys once: a __gc called
// again (by hand, through getmetatable) finds it released instead of
// destroying it twice.
template <class T>
struct Box {
  bool alive;
  alignas(T) unsigned char mem[sizeof(T)];
  T* get() noexcept { return std::launder(reinterpret_cast<T*>(mem)); }
  void destroy() noexcept {
    if (alive) get()->~T();
    alive = false;
  }
};

// Uservalue slots of a Popen userdata.
enum PopenSlot { kStdinSlot = 1, kStdoutSlot = 2, kStderrSlot = 3, kArgsSlot = 4, kPopenSlots = 4 };

// ---- options (subprocess_options.cpp) ----------------------------------

// Which function is parsing: the options each accepts differ.
enum class Caller { Popen, Run, CheckOutput };

// What run and check_output take beyond Popen's options.
struct RunOptions {
  bool check = false;
  bool has_input = false;  // the input is in the job's Exchange
  double timeout = -1;     // < 0: none
};

// Makes the options argument (at 2) a table (an empty one for nil) and the
// stack exactly {args, options}. Raises ArgumentError for a non-table.
void normalize_call(lua_State* L);

// Reads args (at 1) and the options table (at 2) into job->spec and `run`,
// leaving the stack as it was. Raises ArgumentError for anything wrong, naming it; an unknown
// option key is named with the list of accepted ones.
void parse_call(lua_State* L, Job* job, Caller caller, RunOptions& run);

// A timeout argument: nil -> -1 (none), else a number >= 0.
double check_seconds(lua_State* L, int arg);

// ---- Popen (subprocess.cpp, subprocess_popen.cpp) -------------------------

inline constexpr const char* kStdioNames[3] = {"stdin", "stdout", "stderr"};

// The Popen at idx (ArgumentError otherwise); check_popen: at 1, started.
Job* check_job(lua_State* L, int idx);
Job* check_popen(lua_State* L);
// The Popen's stream in slot kStdinSlot..kStderrSlot, or nullptr.
subprocess::Stream* stream_of(lua_State* L, int popen, int slot);
Deadline deadline_of(double seconds);  // < 0: never
// Pushes the command (the args as given) as text for messages.
void push_command_text(lua_State* L, int popen);
// Sets fields stdout, stderr (when piped: what was read) and cmd on the
// error object on top of the stack.
void set_output_fields(lua_State* L, int popen, Job* job);
// Raise Timeout (with_output: carrying stdout/stderr so far) and
// CalledProcessError, with their fields.
[[noreturn]] void raise_timeout(lua_State* L, int popen, Job* job, double seconds, bool with_output = true);
[[noreturn]] void raise_called_process_error(lua_State* L, int popen, Job* job, int code);
void open_popen_class(lua_State* L);

// ---- streams (subprocess_stream.cpp) -----------------------------------

// Pushes a new, closed Stream userdata (Stream::attach gives it its pipe).
subprocess::Stream* push_stream(lua_State* L, const char* name, bool writable);
// The Stream at idx, or nullptr if it is not one.
subprocess::Stream* test_stream(lua_State* L, int idx);
void open_stream_class(lua_State* L);

}  // namespace tide::sub
