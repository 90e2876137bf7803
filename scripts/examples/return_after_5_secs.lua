-- Port of the as_completed seed: five tasks sleep a random 1..5 units
-- (0.1 s each here); "1" prints at once, the results as they complete,
-- then "2".
local pool = require "tide.pool"
local future = require "tide.future"

local function return_after_5_secs(num, units)
  require("tide").sleep(units * 0.1)
  return "Return of " .. num
end

local p = pool.ThreadPool{workers = 5}
local futures = {}
for x = 0, 4 do futures[#futures + 1] = p:submit(return_after_5_secs, x, math.random(1, 5)) end

print(1)
for f in future.as_completed(futures) do print(f:result()) end
print(2)
p:shutdown()
