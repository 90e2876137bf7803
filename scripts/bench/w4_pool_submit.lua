-- W4: a pool of 2 workers; submit 100,000 tasks function(x) return x+1 end,
-- then collect every result (us per task). Python: ThreadPoolExecutor(2).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"

local N, REPS = 100000, 5

local p = pool.ThreadPool{workers = 2}
local function inc(x) return x + 1 end

local function run()
  local futs = {}
  for i = 1, N do futs[i] = p:submit(inc, i) end
  local sum = 0
  for i = 1, N do sum = sum + futs[i]:result() end
  bench.check(sum == N * (N + 1) // 2 + N, "W4 sum %d", sum)
end

local us = bench.best(REPS, run) / N * 1e6
p:shutdown()
local py = bench.python("w4_pool_submit.py")
bench.line("W4 pool submit+result (2 workers, %d tasks, best of %d): tide %.2f us/task   python %.2f us/task   speedup x%.1f   (target <=2 us)",
  N, REPS, us, py.us_per_task, py.us_per_task / us)
