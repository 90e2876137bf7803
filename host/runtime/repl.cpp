#include "runtime/repl.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/wait.hpp"
#include "runtime/state.hpp"

#ifdef TIDE_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

namespace tide::repl {

namespace {

bool read_line(const char* prompt, std::string& out) {
#ifdef TIDE_HAVE_READLINE
  if (isatty(STDIN_FILENO)) {
    char* line = readline(prompt);
    if (!line) return false;
    out = line;
    if (*line) add_history(line);
    std::free(line);
    return true;
  }
#endif
  std::fputs(prompt, stdout);
  std::fflush(stdout);
  char buf[4096];
  out.clear();
  while (std::fgets(buf, sizeof buf, stdin)) {
    out += buf;
    if (!out.empty() && out.back() == '\n') {
      out.pop_back();
      return true;
    }
  }
  return !out.empty();
}

bool incomplete(lua_State* L, int status) {
  if (status != LUA_ERRSYNTAX) return false;
  size_t len;
  const char* msg = lua_tolstring(L, -1, &len);
  const char* eof = "<eof>";
  size_t n = std::strlen(eof);
  return len >= n && std::strcmp(msg + len - n, eof) == 0;
}

// Compiles the input as an expression ("return ...") or else a statement
// block, reading more lines while the block is incomplete.
int load_chunk(lua_State* L, std::string& code) {
  std::string ret = "return " + code + ";";
  if (luaL_loadbuffer(L, ret.data(), ret.size(), "=stdin") == LUA_OK) return LUA_OK;
  lua_pop(L, 1);
  for (;;) {
    int status = luaL_loadbuffer(L, code.data(), code.size(), "=stdin");
    if (!incomplete(L, status)) return status;
    lua_pop(L, 1);
    std::string more;
    if (!read_line(">> ", more)) return status;
    code += "\n" + more;
  }
}

void print_results(lua_State* L, int n) {
  if (n == 0) return;
  lua_getglobal(L, "print");
  lua_insert(L, -(n + 1));
  if (lua_pcall(L, n, 0, 0) != LUA_OK) {
    std::fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

}  // namespace

void run(lua_State* L) {
  std::printf("tide %s (%s) — Ctrl-D to exit\n", TIDE_VERSION, LUA_RELEASE);
  std::string line;
  while (read_line("> ", line)) {
    sigint_pending(true);  // a Ctrl-C at the prompt cancels nothing
    int top = lua_gettop(L);
    int status = load_chunk(L, line);
    if (status == LUA_OK) status = runtime::pcall_traceback(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      print_results(L, lua_gettop(L) - top);
    } else {
      std::fprintf(stderr, "%s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_settop(L, top);
  }
  std::fputc('\n', stdout);
}

}  // namespace tide::repl
