-- W7 fused forms: the same 2 threads x 500,000 locked increments as
-- w7_lock.lua, written as the literal four calls and as the fused forms a
-- user reaches for, side by side in one run (ns per increment over both
-- threads, best of REPS), with the C lock pair when its reference program
-- is built and the share of acquisitions where the lock changed thread.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local N, THREADS, REPS = 500000, 2, 5

local bump = function(v) v.value = v.value + 1 end
local inc = function(x) return x + 1 end

local forms = {
  {"literal: lock:acquire(); v.value = v.value + 1; lock:release()", function(lock, v, n)
    for _ = 1, n do lock:acquire(); v.value = v.value + 1; lock:release() end
  end},
  {"lock:with(bump, v)", function(lock, v, n)
    for _ = 1, n do lock:with(bump, v) end
  end},
  {"lock:with(function() ... end) (a closure per call)", function(lock, v, n)
    for _ = 1, n do lock:with(function() v.value = v.value + 1 end) end
  end},
  {"v:update(inc) (the Value's own RLock)", function(_, v, n)
    for _ = 1, n do v:update(inc) end
  end},
  {"v:add(1) (atomic, no lock)", function(_, v, n)
    for _ = 1, n do v:add(1) end
  end},
}

local function worker(i, lock, v, go, n)
  go:wait()
  forms[i][2](lock, v, n)
end

local function run(i)
  local lock, v, go = sync.Lock(), shared.Value("int", 0), sync.Event()
  local ts = {}
  for t = 1, THREADS do ts[t] = thread.spawn(worker, i, lock, v, go, N) end
  go:set()
  for t = 1, THREADS do ts[t]:join() end
  bench.check(v.value == N * THREADS, "W7 count %d, expected %d", v.value, N * THREADS)
end

-- How often consecutive critical sections ran in different threads.
local function handovers()
  local lock, v, last, h, go = sync.Lock(), shared.Value("int", 0), shared.Value("int", 0),
    shared.Value("int", 0), sync.Event()
  local function w(me)
    go:wait()
    for _ = 1, N do
      lock:acquire()
      v.value = v.value + 1
      if last.value ~= me then h.value = h.value + 1; last.value = me end
      lock:release()
    end
  end
  local ts = {}
  for t = 1, THREADS do ts[t] = thread.spawn(w, t) end
  go:set()
  for t = 1, THREADS do ts[t]:join() end
  return h.value / (N * THREADS)
end

local function c_pair()
  local r = bench.c("lock_pair_ref", N, REPS)
  return r and r.c_ns_per_pair
end

bench.line("W7 fused forms, %d threads x %d, best of %d; load average %s", THREADS, N, REPS,
  io.open("/proc/loadavg"):read("l"):match("^(%S+ %S+ %S+)"))
local c = c_pair()
for i, f in ipairs(forms) do
  local ns = bench.best(REPS, run, i) / (N * THREADS) * 1e9
  if c then
    bench.line("  %-58s %7.1f ns   x%.1f the C lock pair (%.1f ns)", f[1], ns, ns / c, c)
  else
    bench.line("  %-58s %7.1f ns", f[1], ns)
  end
end
bench.line("  lock changed threads at %.2f%% of acquisitions (literal form)", handovers() * 100)
