-- The tide.async seed ports under scripts/examples/ (the asyncio notes'
-- programs), output asserted.
local T = require "harness"
local root = os.getenv("TIDE_SOURCE_DIR") or "."

local function example(name, args)
  return T.run_tide(root .. "/scripts/examples/" .. name .. (args and (" " .. args) or ""))
end

T.test("async_say_after: awaiting in turn takes 3 units, spawned tasks and gather take 2", function()
  -- A unit long enough that a loaded machine's scheduling delays stay
  -- under one unit (they only ever add: a timer never fires early).
  local code, out, err = example("async_say_after.lua", T.sanitizer and "0.6" or "0.2")
  T.eq(code, 0, err)
  T.eq(out, table.concat({
    "-- sequential awaits", "started", "hello", "world", "finished after 3 units",
    "-- spawn, then await", "started", "hello", "world", "finished after 2 units",
    "-- gather", "started", "hello", "world", "finished after 2 units", ""}, "\n"))
end)

T.test("async_queue: a producer and two consumers over a bounded async.Queue", function()
  local code, out, err = example("async_queue.lua")
  T.eq(code, 0, err)
  T.eq(out, table.concat({
    "produced\t1", "produced\t2", "A consumed\t1", "B consumed\t2",
    "produced\t3", "produced\t4", "A consumed\t3", "B consumed\t4",
    "produced\t5", "produced\t6", "A consumed\t5", "B consumed\t6",
    "squares: 1 4 9 16 25 36", ""}, "\n"))
end)

T.test("async_event: one set() releases every waiting task", function()
  local code, out, err = example("async_event.lua")
  T.eq(code, 0, err)
  T.eq(out, table.concat({
    "task 1 is waiting for the event", "task 2 is waiting for the event", "task 3 is waiting for the event",
    "setting the event",
    "task 1 got the event", "task 2 got the event", "task 3 got the event",
    "all tasks went on; is_set = true", ""}, "\n"))
end)

T.test("async_generator: one step with next(), then the whole generator in a for loop", function()
  local code, out, err = example("async_generator.lua")
  T.eq(code, 0, err)
  T.eq(out, "first:\t0\nall:\t0 1 2 3 4 5 6 7 8 9\n")
end)

T.test("async_pool_map: the loop ticks while it awaits the pool's results", function()
  local code, out, err = example("async_pool_map.lua")
  T.eq(code, 0, err)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(lines[1], "tick 1")  -- the work could only start after it
  for i = 2, #lines - 1 do T.eq(lines[i], "tick " .. i) end
  T.eq(lines[#lines], "squares: 1 4 9 16 25 36 49 64")
end)

T.test("readme_async: the README's tide.async example prints what it says", function()
  local code, out, err = example("readme_async.lua")
  T.eq(code, 0, err)
  T.eq(out, "9\tslept\ngot\t1\ngot\t2\ngot\t3\nfalse\tTimeout\n")
end)

T.done()
