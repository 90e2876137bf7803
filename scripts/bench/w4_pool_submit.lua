-- W4: a pool of 2 workers; submit 100,000 tasks function(x) return x+1 end,
-- then collect every result (us per task). Python: ThreadPoolExecutor(2).
-- Twice: one function for every task, then a new closure literal at each
-- submit (Python: a new lambda at each submit). Then as a script runs it:
-- the runs back to back with no full collection between them (the mean),
-- where dead futures go only as fast as the collector paces itself. No C
-- reference: this is tide's own machinery.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
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
collectgarbage()
local before, t0 = bench.counters(), tide.monotonic()
for _ = 1, REPS do run() end
local trow, countsrow = (tide.monotonic() - t0) / REPS, bench.per_item(before, bench.counters(), REPS * N)
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
bench.report{
  name = string.format("W4 one function, %d runs in a row without a full collection (mean)", REPS),
  unit = "us/task", fmt = "%.2f", tide = trow * 1e6 / N, python = py.us_per_task_in_a_row, counts = countsrow,
  target = "<= 1.5 us"}
