-- Seed port (asyncio + concurrent.futures notes): one event loop awaits the
-- results of work running on a ThreadPool while a timer task keeps ticking:
-- awaiting pool futures never blocks the loop. The work waits until the
-- ticker has ticked once, so the ticks are proof the loop ran meanwhile.
local async = require "tide.async"
local pool = require "tide.pool"
local sync = require "tide.sync"

local function slow_square(x, ticked)
  ticked:wait()            -- a tide.sync Event: works across threads
  local s = 0
  for _ = 1, 200000 do s = s + 1 end  -- some CPU work
  return x * x
end

async.run(function()
  local p <close> = pool.ThreadPool{workers = 2}
  local ticked = sync.Event()
  local done = false
  local ticker = async.spawn(function()
    local n = 0
    while not done do
      n = n + 1
      print("tick " .. n)
      ticked:set()
      async.sleep(0.01)
    end
  end)
  local futures = {}
  for i = 1, 8 do futures[i] = p:submit(slow_square, i, ticked) end
  local squares = async.gather(futures)     -- awaits them all, in order
  done = true
  async.await(ticker)
  print("squares: " .. table.concat(squares, " "))
end)
