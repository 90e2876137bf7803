-- W1: start 1000 threads, each returns its index; join all and sum.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local thread = require "tide.thread"

local N, REPS = 1000, 5

local function run()
  local ts = {}
  for i = 1, N do ts[i] = thread.spawn(function(i) return i end, i) end
  local sum = 0
  for i = 1, N do sum = sum + ts[i]:join() end
  bench.check(sum == N * (N + 1) // 2, "W1 sum %d, expected %d", sum, N * (N + 1) // 2)
end

local us = bench.best(REPS, run) / N * 1e6
local py = bench.python("w1_thread_start.py")
bench.line("W1 thread start+join (%d threads, best of %d): tide %.1f us/thread   python %.1f us/thread   speedup x%.1f   (target <=100 us)",
  N, REPS, us, py.us_per_thread, py.us_per_thread / us)
