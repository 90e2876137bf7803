-- Seed port (asyncio notes): say_after. Awaiting one call after the other
-- takes the sum of the delays (1 + 2 = 3 units); starting both as tasks
-- first, or gathering them, takes the longest one (2 units). The unit is
-- scaled down from the notes' one second.
--   tide scripts/examples/async_say_after.lua [unit_seconds]
local async = require "tide.async"
local tide = require "tide"

local unit = tonumber(arg and arg[1]) or 0.2

local function say_after(delay, what)
  async.sleep(delay * unit)
  print(what)
end

-- Whole units elapsed (a timer never fires early, so this never undercounts).
local function units(t0) return math.floor((tide.monotonic() - t0) / unit) end

local function main_sequential()
  local t0 = tide.monotonic()
  print("started")
  say_after(1, "hello")
  say_after(2, "world")
  print(("finished after %d units"):format(units(t0)))
end

local function main_tasks()
  local t0 = tide.monotonic()
  local task1 = async.spawn(say_after, 1, "hello")
  local task2 = async.spawn(say_after, 2, "world")
  print("started")
  async.await(task1)
  async.await(task2)
  print(("finished after %d units"):format(units(t0)))
end

local function main_gather()
  local t0 = tide.monotonic()
  print("started")
  async.gather(function() say_after(1, "hello") end, function() say_after(2, "world") end)
  print(("finished after %d units"):format(units(t0)))
end

print("-- sequential awaits")
async.run(main_sequential)
print("-- spawn, then await")
async.run(main_tasks)
print("-- gather")
async.run(main_gather)
