-- Port of the seed "terminating a process": the child would run forever;
-- terminate() sends SIGTERM and the exit code says so (-15).
local process = require "tide.process"
local sync = require "tide.sync"

local started = sync.Event()
local function forever(ev)
  ev:set()
  require("tide.sync").Event():wait()
end

local p = process.Process{target = forever, args = {started}}
print("BEFORE:", p:is_alive())
p:start()
started:wait()
print("DURING:", p:is_alive())
p:terminate()
p:wait()
print("JOINED:", p:is_alive())
print("exitcode:", p.exitcode)
