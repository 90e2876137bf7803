-- Issue 15, defect 3: with `local p <close> = ThreadPool{...}`, one Ctrl-C
-- interrupted a blocking map, but then __close (shutdown with wait) waited
-- uninterruptibly for the running tasks (a minute here). Leaving the block
-- by Ctrl-C now terminates the pool, as the exit of a script without
-- <close> does: the script exits 130 at once. The same for process pools.
local T = require "harness"
local os_ = require "tide.os"

local function run(kind)
  local bin = os.getenv("TIDE_BIN") or "tide"
  -- `timeout` is the hang detector: without the fix the tasks' minute-long
  -- sleeps keep the script alive past it (exit 124).
  local p = assert(io.popen("timeout 20 " .. bin .. [[ -e '
    local tide = require "tide"
    local p <close> = require("tide.pool").]] .. kind .. [[{workers = 2}
    print(require("tide.os").getpid()) io.stdout:flush()
    p:map(function() print("started") io.stdout:flush() require("tide").sleep(60) end, {1, 2}, {chunksize = 1})' 2>&1; echo "status $?"]]))
  local pid = math.tointeger(tonumber(p:read("l")))
  T.eq(p:read("l"), "started")
  T.eq(p:read("l"), "started")
  os_.kill(pid, "SIGINT")
  local rest = p:read("a")
  p:close()
  T.match(rest, "Interrupted")
  T.match(rest, "status 130\n$")
end

T.test("one Ctrl-C ends a script whose <close> ThreadPool runs tasks: terminated, exit 130", function()
  run("ThreadPool")
end)

T.test("one Ctrl-C ends a script whose <close> ProcessPool runs tasks: terminated, exit 130", function()
  run("ProcessPool")
end)

T.test("a block left by an ordinary error still waits for the pool's tasks", function()
  local pool, sync = require "tide.pool", require "tide.sync"
  local f
  local ok = pcall(function()
    local p <close> = pool.ThreadPool{workers = 1}
    local ev = sync.Event()
    f = p:submit(function(e) e:wait() return "finished" end, ev)
    ev:set()
    error("the block fails")
  end)
  T.eq(ok, false)
  T.truthy(f:done(), "__close waited")
  T.eq(f:result(), "finished")
end)

T.done()
