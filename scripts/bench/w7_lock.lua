-- W7: 2 threads x 500,000 of: lock / increment a shared Value / unlock.
-- Figure: ns per lock+increment+unlock, over both threads (wall time / 1e6).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local N, THREADS, REPS = 500000, 2, 5

local function worker(lock, v, go, n)
  go:wait()
  for _ = 1, n do
    lock:acquire()
    v.value = v.value + 1
    lock:release()
  end
end

local function run()
  local lock, v, go = sync.Lock(), shared.Value("int", 0, {lock = false}), sync.Event()
  local ts = {}
  for i = 1, THREADS do ts[i] = thread.spawn(worker, lock, v, go, N) end
  go:set()
  for i = 1, THREADS do ts[i]:join() end
  bench.check(v.value == N * THREADS, "W7 count %d, expected %d", v.value, N * THREADS)
end

local ns = bench.best(REPS, run) / (N * THREADS) * 1e9
local py = bench.python("w7_lock.py")
bench.line("W7 lock/increment/unlock (%d threads x %d, best of %d): tide %.1f ns/pair   python %.1f ns/pair   speedup x%.1f   (target <=60 ns; python ~165 ns on the reference machine)",
  THREADS, N, REPS, ns, py.ns_per_pair, py.ns_per_pair / ns)
