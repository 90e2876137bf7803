-- Port of the seed "terminating a child process, and handling the signal":
-- the child installs a SIGTERM handler and loops; the parent terminates
-- it; the handler runs (at the child's next tide wait, not inside the C
-- signal handler), cleans up and exits with status 0.
local process = require "tide.process"
local sync = require "tide.sync"

local function task(ready)
  local signal = require "tide.signal"
  local tide = require "tide"
  signal.signal("SIGTERM", function()
    print("Child process cleaning up...")
    os.exit(0)
  end)
  ready:set()
  while true do
    tide.sleep(1)
    print("Worker process running...")
  end
end

local ready = sync.Event()
local p = process.Process{target = task, args = {ready}}
p:start()
ready:wait()  -- the handler is installed (the seed sleeps 5 s instead)
p:terminate()
p:wait()
print("Parent is continuing on...")
print("exit code:", p.exitcode)
