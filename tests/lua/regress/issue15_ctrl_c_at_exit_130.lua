-- Issue 15 defect 4: Ctrl-C while the host joins non-daemon threads, child
-- processes or pending pool tasks at exit ended the command with status 0;
-- it must end with 130 (and stop the work: no child is left).
local T = require "harness"
local os_ = require "tide.os"

-- Runs `code` in a sub-tide whose first line is its pid; once it prints a
-- line starting with "ready" (from work that waits for the main chunk to
-- end), sends SIGINT. Returns the rest of the output (ending "status N")
-- and the ready line.
local function interrupt_at_exit(code)
  local bin = os.getenv("TIDE_BIN") or "tide"
  local f = os.tmpname()
  local script = assert(io.open(f, "w"))
  script:write("print(require('tide.os').getpid()) io.stdout:flush()\n", code)
  script:close()
  local p = assert(io.popen(bin .. " " .. f .. " 2>&1; echo \"status $?\""))
  local pid = math.tointeger(tonumber(p:read("l")))
  local ready = p:read("l")
  T.match(ready, "^ready")
  os_.kill(pid, "SIGINT")
  local rest = p:read("a")
  p:close()
  os.remove(f)
  return rest, ready
end

-- The work prints "ready" once the main chunk has set `ending` (its last
-- statement), so the SIGINT reaches the host at or after the end.
local prelude = [[
local sync = require "tide.sync"
local ending = sync.Event()
]]

T.test("Ctrl-C while exit joins a non-daemon thread: status 130", function()
  local rest = interrupt_at_exit(prelude .. [[
require("tide.thread").spawn(function(e)
  e:wait() print("ready") io.stdout:flush()
  require("tide.sync").Event():wait()
end, ending)
ending:set()
]])
  T.match(rest, "status 130%s*$")
end)

T.test("Ctrl-C while exit joins a child process: status 130, no child left", function()
  local rest, ready = interrupt_at_exit(prelude .. [[
require("tide.process").spawn(function(e)
  e:wait() print("ready " .. require("tide.os").getpid()) io.stdout:flush()
  require("tide.sync").Event():wait()
end, ending)
ending:set()
]])
  T.match(rest, "status 130%s*$")
  local child = math.tointeger(tonumber(ready:match("%d+")))
  local e = T.raises("OSError", os_.kill, child, 0)
  T.eq(e.errno, 3, "ESRCH: the child is gone")
end)

T.test("Ctrl-C while exit waits for pool tasks: status 130", function()
  local rest = interrupt_at_exit(prelude .. [[
local p = require("tide.pool").ThreadPool{workers = 1}
p:submit(function(e)
  e:wait() print("ready") io.stdout:flush()
  require("tide.sync").Event():wait()
end, ending)
p:submit(print, "queued behind it")
ending:set()
]])
  T.match(rest, "status 130%s*$")
  T.eq(rest:find("queued behind it"), nil, "queued work is cancelled, not run")
end)

T.test("Ctrl-C while os.exit joins threads: status 130", function()
  local rest = interrupt_at_exit(prelude .. [[
require("tide.thread").spawn(function(e)
  e:wait() print("ready") io.stdout:flush()
  require("tide.sync").Event():wait()
end, ending)
ending:set()
os.exit(0)
]])
  T.match(rest, "status 130%s*$")
end)

T.test("without Ctrl-C the same programs exit 0", function()
  local code = T.run_tide([[-e 'local ev = require("tide.sync").Event()
    require("tide.thread").spawn(function(e) e:wait() end, ev)
    require("tide.pool").ThreadPool{workers = 1}:submit(function(e) e:wait() end, ev)
    ev:set()']])
  T.eq(code, 0)
end)

T.done()
