-- W4: a pool of 2 workers; submit 100,000 tasks function(x) return x+1 end,
-- then collect every result (us per task). Python: ThreadPoolExecutor(2).
-- Twice: one function for every task, then a new closure literal at each
-- submit (Python: a new lambda at each submit). No C reference: this is
-- tide's own machinery.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"

local N, REPS = 100000, 5

local p = pool.ThreadPool{workers = 2}
local function inc(x) return x + 1 end

local function collect(futs)
  local sum = 0
  for i = 1, N do sum = sum + futs[i]:result() end
  bench.check(sum == N * (N + 1) // 2 + N, "W4 sum %d", sum)
end

local function run()
  local futs = {}
  for i = 1, N do futs[i] = p:submit(inc, i) end
  collect(futs)
end

local function run_literal()
  local futs = {}
  for i = 1, N do futs[i] = p:submit(function(x) return x + 1 end, i) end
  collect(futs)
end

run()  -- warm-up
local t, counts = bench.best_counted(REPS, N, run)
local tl, countsl = bench.best_counted(REPS, N, run_literal)
p:shutdown()
local py = bench.python("w4_pool_submit.py")
bench.report{
  name = string.format("W4 pool submit+result (2 workers, %d tasks, best of %d)", N, REPS),
  unit = "us/task", fmt = "%.2f", tide = t / N * 1e6, python = py.us_per_task, counts = counts,
  target = "<= 1.5 us"}
bench.report{
  name = "W4 the same, a new closure literal at each submit",
  unit = "us/task", fmt = "%.2f", tide = tl / N * 1e6, python = py.us_per_task_lambda, counts = countsl,
  target = "<= 1.5 us"}
