-- The REPL (API.md §14), driven through a real terminal: each test starts
-- `tide` inside a detached tmux session, types keys, and asserts what the
-- screen shows. Waiting is for a condition on the screen (a hang detector
-- with a deadline), never a sleep that orders events.
local T = require "harness"
local tide = require "tide"

local BIN = os.getenv("TIDE_BIN") or "tide"
local counter = 0

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, code
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local Screen = {}
Screen.__index = Screen

-- A tide REPL in a fresh tmux server (its own socket) with HOME at `home`.
function Screen.start(home, args)
  counter = counter + 1
  local self = setmetatable({}, Screen)
  self.sock = os.tmpname()
  os.remove(self.sock)
  self.tmux = "tmux -S " .. q(self.sock)
  local cmd = ("env HOME=%s XDG_STATE_HOME= %s %s"):format(q(home), BIN, args or "")
  local out, code = sh(self.tmux .. " new-session -d -x 100 -y 40 " .. q(cmd))
  T.eq(code, 0, "tmux started (is tmux installed?): " .. out)
  self:wait_for("\n>$")
  return self
end

function Screen:text()
  return (sh(self.tmux .. " capture-pane -p -S -200"))
end

-- Waits until the screen matches `pattern` (a Lua pattern, tried on the
-- whole screen with trailing blanks removed, so a prompt "> " at the end
-- reads "\n>$"); returns the screen.
function Screen:wait_for(pattern, seconds)
  local deadline = tide.monotonic() + (seconds or 10)
  local screen
  repeat
    screen = self:text():gsub("%s+$", "")
    if screen:find(pattern) then return screen end
    tide.sleep(0.02)
  until tide.monotonic() > deadline
  error(("screen never matched %q; it shows:\n%s"):format(pattern, screen), 2)
end

function Screen:type(text) sh(self.tmux .. " send-keys -l " .. q(text)) end
function Screen:key(...) sh(self.tmux .. " send-keys " .. table.concat({...}, " ")) end
function Screen:line(text) self:type(text); self:key("Enter") end

function Screen:alive()
  local out = sh(self.tmux .. " list-panes -F '#{pane_dead}'")
  return out:match("^0") ~= nil
end

function Screen:close() sh(self.tmux .. " kill-server"); os.remove(self.sock) end

local function home()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  return dir
end

T.test("expressions, =expr, several results and errors are shown; the REPL keeps its state", function()
  local s = Screen.start(home())
  s:line("x = 40")
  s:line("x + 2")
  s:wait_for("\n42\n>$")
  s:line("=x, 'a\\n', nil")
  s:wait_for('\n40%s+"a\\n"%s+nil\n>$')  -- tab-separated (tmux shows spaces)
  s:line("error('boom')")
  s:wait_for("stdin:1: boom\nstack traceback:.-\n>$")
  s:line("x")
  s:wait_for("\n40\n>$")
  s:close()
end)

T.test("tables are pretty-printed with cycles marked, tide objects with their state", function()
  local s = Screen.start(home())
  s:line("t = {1, 'two', {3}, name = 'n'}; t.self = t")
  s:line("t")
  s:wait_for('{1, "two", {3}, name = "n", self = <cycle>}\n>$')
  s:line("f = require('tide.future').new(); f:set_result(42)")
  s:line("f")
  s:wait_for("Future done: 42\n>$")
  s:line("q = require('tide.queue').Queue()")
  s:line("q:put(1); q:put(2)")
  s:line("q")
  s:wait_for("Queue %(2 items%)\n>$")
  s:close()
end)

T.test("multi-line input continues with >>; Ctrl-C and Ctrl-D at >> drop the chunk, not the REPL", function()
  local s = Screen.start(home())
  s:line("function g()")
  s:wait_for("\n>>$")
  s:line("return 7")
  s:line("end")
  s:line("g()")
  s:wait_for("\n7\n>$")
  s:line("function h()")
  s:wait_for("\n>>$")
  s:key("C-c")
  s:wait_for(">> %^C\n>$")
  s:line("function h2()")
  s:wait_for("\n>>$")
  s:key("C-d")
  s:wait_for("'end' expected near <eof>\n>$")
  s:line("1 + 1")
  s:wait_for("\n2\n>$")
  T.truthy(s:alive(), "the REPL is still running")
  s:close()
end)

T.test("Ctrl-C at the prompt gives a new prompt; Ctrl-C interrupts a blocking get and a busy loop", function()
  local s = Screen.start(home())
  s:type("abc")
  -- The terminal discards unread input when it turns ^C into SIGINT: send
  -- it only once the REPL has the keys (they are on the screen).
  s:wait_for("\n> abc$")
  s:key("C-c")
  s:wait_for("> abc%^C\n>$")
  s:line("q = require('tide.queue').Queue()")
  -- Each chunk prints first, so ^C goes only once it runs (see above).
  s:line("print('getting') q:get()")
  s:wait_for("\ngetting$")
  s:key("C-c")
  s:wait_for("Interrupted: .-\n>$")
  s:line("print('looping') for i = 1, 1e13 do end")
  s:wait_for("\nlooping$")
  s:key("C-c")
  s:wait_for("Interrupted: .-\n>$")
  s:line("q:put('still here')")
  s:line("q:get()")
  s:wait_for('"still here"\n>$')
  s:close()
end)

T.test("line editing: arrow keys edit the line instead of feeding escape bytes to Lua", function()
  local s = Screen.start(home())
  s:type("pint(6 * 7)")
  s:key("Home", "Right")
  s:type("r")
  s:key("Enter")
  s:wait_for("print%(6 %* 7%)\n42\n>$")
  s:key("Up")
  s:wait_for("> print%(6 %* 7%)$")
  s:key("C-u")
  s:close()
end)

T.test("Tab completes globals, fields and a tide object's methods", function()
  local s = Screen.start(home())
  s:type("string.fo")
  s:key("Tab")
  s:wait_for("> string.format$")
  s:key("C-u")
  s:line("q = require('tide.queue').Queue()")
  s:wait_for("Queue%(%)\n>$")  -- keys typed before the next prompt would not be edited
  s:type("q:get_n")
  s:key("Tab")
  s:wait_for("> q:get_nowait$")
  s:key("C-u")
  s:type("pri")
  s:key("Tab")
  s:wait_for("> print$")
  s:key("C-u")
  s:close()
end)

T.test("history persists across two sessions (~/.tide_history)", function()
  local dir = home()
  local s = Screen.start(dir)
  s:line("marker = 12345")
  s:wait_for("marker = 12345\n>$")
  s:key("C-d")
  local deadline = tide.monotonic() + 10
  while s:alive() and tide.monotonic() < deadline do tide.sleep(0.02) end
  s:close()
  local f = io.open(dir .. "/.tide_history")
  T.truthy(f, "the history file exists")
  T.match(f:read("a"), "marker = 12345")
  f:close()
  local s2 = Screen.start(dir)
  s2:key("Up")
  s2:wait_for("> marker = 12345$")
  s2:close()
end)

-- Without a terminal: no banner, no prompts, no escape codes.
T.test("piped input runs without prompts", function()
  local code, out, err = T.run_tide("-i /dev/null", "1 + 1\nprint('hi')\nerror('x')\n'last'\n")
  T.eq(code, 0)
  T.eq(out, '2\nhi\n"last"\n')
  T.match(err, "stdin:1: x")
end)

-- issue 12: Ctrl-D at the continuation prompt aborted the process
-- ("PANIC: unprotected error", status 134).
T.test("end of input inside an incomplete chunk reports it and exits 0", function()
  local code, out, err = T.run_tide("-i /dev/null", "function g()\n")
  T.eq(code, 0)
  T.eq(out, "")
  T.match(err, "'end' expected near <eof>")
end)

T.test("binary chunks are refused (a stray escape byte is text)", function()
  local code, out, err = T.run_tide("-i /dev/null", "\27Lua\n1\n")
  T.eq(code, 0)
  T.eq(out, "1\n")
  T.match(err, "attempt to load a binary chunk")
end)

T.done()
