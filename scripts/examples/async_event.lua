-- Seed port (asyncio notes): an async.Event tells several tasks that
-- something happened. Each waiter suspends in ev:wait() until one task
-- calls ev:set(); all of them then go on.
local async = require "tide.async"

local function waiter(name, ev)
  print(name .. " is waiting for the event")
  ev:wait()
  print(name .. " got the event")
end

async.run(function()
  local ev = async.Event()
  local tasks = {}
  for i = 1, 3 do tasks[i] = async.spawn(waiter, "task " .. i, ev) end
  async.sleep(0)          -- let them start: each one is now waiting
  print("setting the event")
  ev:set()
  async.gather(tasks)
  print("all tasks went on; is_set = " .. tostring(ev:is_set()))
end)
