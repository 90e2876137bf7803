-- W7: 2 threads x 500,000 of: lock / increment a shared Value / unlock.
-- Figure: ns per lock+increment+unlock, over both threads (wall time / 1e6),
-- beside the C limit (bench_lock_pair_ref: pthread_mutex_lock; counter++;
-- unlock) and Python's threading.Lock in the same run. Then fused forms:
-- lock:with(fn, v) with one function for every call, and Value:update(fn)
-- when this build has it.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local N, THREADS, REPS = 500000, 2, 5

local function literal(lock, v, go, n)
  go:wait()
  for _ = 1, n do
    lock:acquire()
    v.value = v.value + 1
    lock:release()
  end
end

local function with(lock, v, go, n)
  local function incr(val) val.value = val.value + 1 end
  go:wait()
  for _ = 1, n do lock:with(incr, v) end
end

local function update(_, v, go, n)
  local function incr(x) return x + 1 end
  go:wait()
  for _ = 1, n do v:update(incr) end
end

local function run(worker)
  local lock, go = sync.Lock(), sync.Event()
  -- update() uses the Value's own lock; the others an explicit Lock.
  local v = shared.Value("int", 0, {lock = worker == update and lock or false})
  local ts = {}
  for i = 1, THREADS do ts[i] = thread.spawn(worker, lock, v, go, N) end
  go:set()
  for i = 1, THREADS do ts[i]:join() end
  bench.check(v.value == N * THREADS, "W7 count %d, expected %d", v.value, N * THREADS)
end

local items = N * THREADS
local t, counts = bench.best_counted(REPS, items, run, literal)
local c, note = bench.c("lock_pair_ref", N, REPS)
local py = bench.python("w7_lock.py")
local c_ns = c and c.c_ns_per_pair
bench.report{
  name = string.format("W7 lock/increment/unlock (%d threads x %d, best of %d)", THREADS, N, REPS),
  unit = "ns/pair", fmt = "%.1f", tide = t / items * 1e9, c = c_ns, c_label = "C pthread mutex", c_note = note,
  python = py.ns_per_pair, counts = counts, target = "<= x4 C"}

-- What the Lua VM alone charges for the literal loop's shape: four method
-- calls on tide handles that do next to nothing (lock:locked() reads one
-- word), on one thread, so no lock work and no handover. The literal form
-- cannot go below this, whatever the lock costs.
local function floor_run()
  local lock = sync.Lock()
  for _ = 1, N do lock:locked() lock:locked() lock:locked() lock:locked() end
end
local floor_ns = bench.best(REPS, floor_run) / N * 1e9
bench.line("W7 Lua floor: 4 minimal method calls (lock:locked() x4), one thread: %.1f ns   x%.2f the C pair%s",
  floor_ns, c_ns and floor_ns / c_ns or 0 / 0, c_ns and string.format("   (target x4 = %.1f ns)", 4 * c_ns) or "")

local tw, cw = bench.best_counted(REPS, items, run, with)
bench.report{
  name = "W7 fused lock:with(fn, v)", unit = "ns/pair", fmt = "%.1f", tide = tw / items * 1e9,
  c = c_ns, c_label = "C pthread mutex", c_note = note, python = false, counts = cw, target = "<= x2.5 C"}

local probe = shared.Value("int", 0)
local ok, has_update = pcall(function() return type(probe.update) == "function" end)
if ok and has_update then
  local tu, cu = bench.best_counted(REPS, items, run, update)
  bench.report{
    name = "W7 fused v:update(fn)", unit = "ns/pair", fmt = "%.1f", tide = tu / items * 1e9,
    c = c_ns, c_label = "C pthread mutex", c_note = note, python = false, counts = cu, target = "<= x2.5 C"}
else
  bench.line("W7 fused v:update(fn): n/a (Value:update not in this build)")
end
