-- W4 for processes: a ProcessPool of 2 workers; submit 20,000 tasks
-- function(x) return x+1 end, then collect every result (us per task).
-- Python: ProcessPoolExecutor(2) doing the same, in the same run.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"

local N, REPS = 20000, 5

local p = pool.ProcessPool{workers = 2}
local function inc(x) return x + 1 end

local function run()
  local futs = {}
  for i = 1, N do futs[i] = p:submit(inc, i) end
  local sum = 0
  for i = 1, N do sum = sum + futs[i]:result() end
  bench.check(sum == N * (N + 1) // 2 + N, "W4p sum %d", sum)
end

run()  -- warm-up: workers up, the function cached in each
local us = bench.best(REPS, run) / N * 1e6
p:shutdown()
local py = bench.python("w4_process_pool_submit.py")
bench.line("W4p process pool submit+result (2 workers, %d tasks, best of %d): tide %.2f us/task   python ProcessPoolExecutor %.2f us/task   speedup x%.1f   (target >= x10)",
  N, REPS, us, py.us_per_task, py.us_per_task / us)
