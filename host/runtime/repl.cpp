#include "runtime/repl.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "runtime/state.hpp"

#ifdef TIDE_HAVE_READLINE
#include <dlfcn.h>
#include <readline/history.h>
#include <readline/readline.h>
#endif

namespace tide::repl {

namespace {

enum class Read { Line, Eof, Interrupted };

// Where results are shown and what Tab completes: lua/tide/_repl.lua.
constexpr const char* kHelper = "tide._repl";

// Calls kHelper's function `name` with the `nargs` values on the stack;
// leaves `nresults` results, or returns false (and pops everything) if
// anything failed.
bool call_helper(lua_State* L, const char* name, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_getglobal(L, "require");
  lua_pushstring(L, kHelper);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_settop(L, base);
    return false;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_insert(L, base + 1);
  if (lua_pcall(L, nargs, nresults, 0) != LUA_OK) {
    lua_settop(L, base);
    return false;
  }
  return true;
}

// ---- input without a terminal: no prompts, no escape codes -----------------

Read read_plain(std::string& out) {
  char buf[4096];
  out.clear();
  for (;;) {
    if (std::fgets(buf, sizeof buf, stdin)) {
      out += buf;
      if (out.back() == '\n') {
        out.pop_back();
        return Read::Line;
      }
      continue;
    }
    if (std::ferror(stdin) && errno == EINTR) {  // Ctrl-C: SIGINT is not restarting
      std::clearerr(stdin);
      if (sigint_pending(true)) return Read::Interrupted;
      continue;
    }
    return out.empty() ? Read::Eof : Read::Line;
  }
}

#ifdef TIDE_HAVE_READLINE

// ---- input on a terminal: readline's callback interface ---------------------
// Waiting for a key goes through the one wait path (wait_fd), so Ctrl-C at
// the prompt arrives as Interrupted: the line is dropped and a new prompt
// shown, as in Python's REPL.

// readline is loaded when a terminal session starts, not linked: libreadline
// and libtinfo cost every start of the command (every spawned child) about
// 25 page faults, and only the REPL on a terminal uses them (issue 14).
// Without the library, the terminal gets plain line input.
#define TIDE_RL_FUNCTIONS(X)                                                                      \
  X(rl_callback_handler_remove) X(rl_completion_matches) X(using_history) X(read_history)         \
  X(history_truncate_file) X(add_history) X(append_history) X(rl_callback_handler_install)        \
  X(rl_echo_signal_char) X(rl_free_line_state) X(rl_callback_sigcleanup) X(rl_cleanup_after_signal) \
  X(rl_callback_read_char)
#define TIDE_RL_VARIABLES(X)                                                               \
  X(rl_attempted_completion_over) X(rl_line_buffer) X(rl_point) X(rl_readline_name)        \
  X(rl_catch_signals) X(rl_attempted_completion_function) X(rl_completer_word_break_characters) \
  X(rl_completion_append_character)

struct Readline {
#define TIDE_RL_MEMBER(name) decltype(&::name) name = nullptr;
  TIDE_RL_FUNCTIONS(TIDE_RL_MEMBER)
  TIDE_RL_VARIABLES(TIDE_RL_MEMBER)
#undef TIDE_RL_MEMBER
};
Readline rl;

bool load_readline() {
  static const bool loaded = [] {
#define TIDE_RL_STR2(x) #x
#define TIDE_RL_STR(x) TIDE_RL_STR2(x)
    void* lib = dlopen("libreadline.so." TIDE_RL_STR(RL_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL);
    if (!lib) return false;
    bool all = true;
#define TIDE_RL_LOAD(name)                                              \
  rl.name = reinterpret_cast<decltype(rl.name)>(dlsym(lib, #name)); \
  all = all && rl.name != nullptr;
    TIDE_RL_FUNCTIONS(TIDE_RL_LOAD)
    TIDE_RL_VARIABLES(TIDE_RL_LOAD)
#undef TIDE_RL_LOAD
    return all;
  }();
  return loaded;
}

lua_State* g_L = nullptr;  // the state Tab completes in (readline has no user pointer)
std::string* g_line = nullptr;
bool g_done = false, g_eof = false;

void on_line(char* line) {
  g_done = true;
  g_eof = line == nullptr;
  if (line) {
    *g_line = line;
    std::free(line);
  }
  rl.rl_callback_handler_remove();
}

std::vector<std::string> g_matches;

char* next_match(const char*, int state) {
  static std::size_t i;
  if (state == 0) i = 0;
  return i < g_matches.size() ? strdup(g_matches[i++].c_str()) : nullptr;
}

// Candidates for the expression before the cursor (globals, fields, a tide
// object's methods after ':'), computed by the Lua helper.
char** complete(const char*, int, int) {
  *rl.rl_attempted_completion_over = 1;  // never fall back to file names
  g_matches.clear();
  lua_State* L = g_L;
  lua_pushlstring(L, *rl.rl_line_buffer, static_cast<std::size_t>(*rl.rl_point));
  if (call_helper(L, "complete", 1, 1)) {
    if (lua_istable(L, -1)) {
      lua_Integer n = luaL_len(L, -1);
      for (lua_Integer i = 1; i <= n; ++i) {
        if (lua_rawgeti(L, -1, i) == LUA_TSTRING) g_matches.emplace_back(lua_tostring(L, -1));
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  if (g_matches.empty()) return nullptr;
  return rl.rl_completion_matches("", next_match);
}

std::string history_path() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    std::string dir = std::string(state) + "/tide";
    mkdir(dir.c_str(), 0700);
    return dir + "/history";
  }
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.tide_history" : std::string();
}

constexpr int kHistoryMax = 1000;

void start_tty(lua_State* L, std::string& history) {
  g_L = L;
  *rl.rl_readline_name = "tide";
  *rl.rl_catch_signals = 0;  // SIGINT stays tide's (see read_tty)
  *rl.rl_attempted_completion_function = complete;
  *rl.rl_completer_word_break_characters = const_cast<char*>(" \t\n\"'`@$><=;|&{(,+-*/%^~#[]");
  *rl.rl_completion_append_character = '\0';
  rl.using_history();
  history = history_path();
  if (!history.empty()) {
    rl.read_history(history.c_str());
    rl.history_truncate_file(history.c_str(), kHistoryMax);
  }
}

void remember(const std::string& history, const std::string& line) {
  if (line.find_first_not_of(" \t") == std::string::npos) return;
  rl.add_history(line.c_str());
  if (history.empty()) return;
  if (FILE* f = std::fopen(history.c_str(), "a")) std::fclose(f);  // append_history needs the file
  rl.append_history(1, history.c_str());
}

Read read_tty(const char* prompt, std::string& out) {
  out.clear();
  g_line = &out;
  g_done = g_eof = false;
  rl.rl_callback_handler_install(prompt, on_line);
  while (!g_done) {
    try {
      wait_fd(STDIN_FILENO, POLLIN, Deadline::never());
    } catch (const Error&) {  // Interrupted: drop the line, as Python does
      rl.rl_echo_signal_char(SIGINT);
      rl.rl_free_line_state();
      rl.rl_callback_sigcleanup();
      rl.rl_cleanup_after_signal();
      rl.rl_callback_handler_remove();
      std::fputc('\n', stdout);
      std::fflush(stdout);
      return Read::Interrupted;
    }
    rl.rl_callback_read_char();
  }
  return g_eof ? Read::Eof : Read::Line;
}

#endif  // TIDE_HAVE_READLINE

class Input {
 public:
  explicit Input(lua_State* L) : tty_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
#ifdef TIDE_HAVE_READLINE
    readline_ = tty_ && load_readline();
    if (readline_) start_tty(L, history_);
#else
    (void)L;
#endif
  }
  bool tty() const noexcept { return tty_; }

  Read read(const char* prompt, std::string& out) {
#ifdef TIDE_HAVE_READLINE
    if (readline_) {
      Read r = read_tty(prompt, out);
      if (r == Read::Line) remember(history_, out);
      return r;
    }
#endif
    if (tty_) {
      std::fputs(prompt, stdout);
      std::fflush(stdout);
    }
    return read_plain(out);
  }

 private:
  bool tty_;
  bool readline_ = false;
  std::string history_;
};

bool incomplete(lua_State* L, int status) {
  if (status != LUA_ERRSYNTAX) return false;
  size_t len;
  const char* msg = lua_tolstring(L, -1, &len);
  const char* eof = "<eof>";
  size_t n = std::strlen(eof);
  return msg && len >= n && std::strcmp(msg + len - n, eof) == 0;
}

// Text chunks only: a stray escape byte must not start a binary chunk.
int load(lua_State* L, const std::string& code) {
  return luaL_loadbufferx(L, code.data(), code.size(), "=stdin", "t");
}

// Compiles the input as an expression ("return ...", also for "=expr") or
// else a statement block, reading more lines while the block is
// incomplete. Interrupted (Ctrl-C at the ">>" prompt) drops the chunk.
Read load_chunk(lua_State* L, Input& in, std::string code, int& status) {
  if (!code.empty() && code[0] == '=') code = code.substr(1);
  if (load(L, "return " + code + ";") == LUA_OK) {
    status = LUA_OK;
    return Read::Line;
  }
  lua_pop(L, 1);
  for (;;) {
    status = load(L, code);
    if (!incomplete(L, status)) return Read::Line;
    std::string more;
    Read r = in.read(">> ", more);
    if (r == Read::Eof) return Read::Line;  // the incomplete chunk's error is reported
    lua_pop(L, 1);
    if (r == Read::Interrupted) return r;
    code += "\n" + more;
  }
}

// Prints the n values on top of the stack (pretty-printed by the helper;
// plain tostring if that fails), then pops them.
void print_results(lua_State* L, int n) {
  if (n == 0) return;
  if (call_helper(L, "show", n, 1)) {
    std::printf("%s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 1);
    return;
  }
  std::printf("(results could not be shown)\n");
}

// An error message with its traceback, without the REPL's own frame.
void print_error(lua_State* L) {
  std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)";
  const std::string tail = "\n\t[C]: in ?";
  while (msg.size() >= tail.size() && msg.compare(msg.size() - tail.size(), tail.size(), tail) == 0)
    msg.resize(msg.size() - tail.size());
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
  lua_pop(L, 1);
}

}  // namespace

void run(lua_State* L) {
  Input in(L);
  if (in.tty()) std::printf("tide %s (%s)  Ctrl-D exits, Ctrl-C interrupts\n", TIDE_VERSION, LUA_RELEASE);
  std::string line;
  for (;;) {
    Read r = in.read("> ", line);
    if (r == Read::Eof) break;
    if (r == Read::Interrupted) continue;
    sigint_pending(true);  // a Ctrl-C at the prompt cancels nothing that follows
    int top = lua_gettop(L);
    int status;
    if (load_chunk(L, in, line, status) == Read::Interrupted) {
      lua_settop(L, top);
      continue;
    }
    if (status == LUA_OK) status = runtime::pcall_traceback(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(L, lua_gettop(L) - top);
    else
      print_error(L);
    lua_settop(L, top);
    std::fflush(stdout);
  }
  if (in.tty()) std::fputc('\n', stdout);
}

}  // namespace tide::repl
