-- Seed port (asyncio notes): tasks exchange messages through an
-- async.Queue, "a bit like a Go channel". A producer puts work items, two
-- consumers take them until the queue is closed; put waits while the
-- bounded queue is full, get while it is empty.
local async = require "tide.async"

local function producer(q, n)
  for i = 1, n do
    q:put(i)              -- suspends this task while the queue is full
    print("produced", i)
  end
  q:close()               -- consumers drain what is left, then stop
end

local function consumer(name, q, results)
  for item in q:iter() do -- ends once the queue is closed and drained
    print(name .. " consumed", item)
    results[#results + 1] = item * item
    async.sleep(0)        -- working on it: the other tasks run meanwhile
  end
end

async.run(function()
  local q = async.Queue(2)
  local results = {}
  async.gather(function() producer(q, 6) end,
               function() consumer("A", q, results) end,
               function() consumer("B", q, results) end)
  table.sort(results)
  print("squares: " .. table.concat(results, " "))
end)
