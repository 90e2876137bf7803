-- Port of the concurrent.futures seed: ten CPU-bound items on a thread
-- pool, on a process pool, then in a plain loop. Python's thread pool is no
-- faster than its loop (the GIL) and only its process pool uses every core;
-- tide's threads already do, and its processes too.
--   tide scripts/examples/evaluate_item.lua [iterations per item]
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

local function run_pool(kind)
  local start = tide.monotonic()
  do
    local executor <close> = pool[kind]{workers = 5}
    local futures = {}
    for k, item in ipairs(number_list) do futures[k] = executor:submit(evaluate_item, item, ITER) end
    for f in future.as_completed(futures) do print(f:result()) end
  end
  return tide.monotonic() - start
end

local threads = run_pool("ThreadPool")
print(string.format("Thread pool execution in %.3f seconds", threads))
local processes = run_pool("ProcessPool")
print(string.format("Process pool execution in %.3f seconds", processes))

local start = tide.monotonic()
for _, item in ipairs(number_list) do print(evaluate_item(item, ITER)) end
local sequential = tide.monotonic() - start
print(string.format("Sequential execution in %.3f seconds", sequential))
print(string.format("Speedup on %d cores: thread pool x%.2f, process pool x%.2f", tide.cpu_count(),
  sequential / threads, sequential / processes))
