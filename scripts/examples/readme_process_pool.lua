-- The README's process pool example: a worker killed mid-task fails only
-- that task, and the pool goes on with a replacement.
local pool = require "tide.pool"

local p <close> = pool.ProcessPool{workers = 4, task_timeout = 10}
print(table.concat(p:map(function(x) return x * x end, {1, 2, 3, 4}), " "))  -- 1 4 9 16
local f = p:submit(function() require("tide.os").kill(require("tide.os").getpid(), "SIGKILL") end)
local ok, e = pcall(f.result, f)
print(ok, e.kind, e.signal)                    -- false  WorkerDied  SIGKILL
print(p:apply(function() return "the pool goes on" end))
