-- Port of the multiprocessing seed "Process with target and args": the child
-- greets by name and prints its own pid; the parent prints the pid it sees.
local process = require "tide.process"

local function greet(name)
  print("hello " .. name .. " from pid " .. require("tide.process").current().pid)
end

local p = process.Process{target = greet, args = {"bob"}}
p:start()
p:join()
print("child pid " .. p.pid)
