-- Port of the concurrent.futures seed's ProcessPoolExecutor half: ten
-- CPU-bound items submitted to a pool of five worker processes, results
-- printed as they complete.
--   tide scripts/examples/process_pool_as_completed.lua [iterations per item]
local tide = require "tide"
local pool = require "tide.pool"
local future = require "tide.future"

local ITER = math.tointeger(tonumber(arg and arg[1])) or 10000000
local number_list = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

local function evaluate_item(x, iter)
  local i = 0
  for _ = 1, iter do i = i + 1 end  -- only to spend time
  return i * x
end

local start = tide.monotonic()
do
  local executor <close> = pool.ProcessPool{workers = 5}
  local futures = {}
  for k, item in ipairs(number_list) do futures[k] = executor:submit(evaluate_item, item, ITER) end
  for f in future.as_completed(futures) do print(f:result()) end
end
print(string.format("Process pool execution in %.3f seconds", tide.monotonic() - start))
