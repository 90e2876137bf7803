-- W6: a CPU-bound loop in one thread, then split over two threads.
-- Shows whether threads run Lua in parallel (no global lock).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local thread = tide.thread

local N, REPS = 20000000, 5

local function loop(a, b)
  local s = 0
  for i = a, b do s = s + i % 7 end
  return s
end

-- Child mode for the process control below.
if arg[1] == "--loop" then print(loop(tonumber(arg[2]), tonumber(arg[3]))) return end

-- Closed form of sum(i % 7, i = 1..n): 21 per full cycle of 7, plus the tail.
local function expected(n) local r = n % 7 return n // 7 * 21 + r * (r + 1) // 2 end

local function check(s, what) bench.check(s == expected(N), "W6 %s: sum %d, expected %d", what, s, expected(N)) end

-- Both variants run in spawned threads so spawn overhead cancels out.
local function one() check(thread.spawn(loop, 1, N):join(), "1 thread") end

local function two()
  local a, b = thread.spawn(loop, 1, N // 2), thread.spawn(loop, N // 2 + 1, N)
  check(a:join() + b:join(), "2 threads")
end

-- Control: the same split over independent processes shows what the machine
-- can give right now. On a shared box, a busy core caps this below 2 too, and
-- then tide's shortfall is not tide's.
local function procs(ranges)
  local ps, s = {}, 0
  for i, r in ipairs(ranges) do
    ps[i] = assert(io.popen(string.format("'%s' '%s' --loop %d %d", arg[-1], arg[0], r[1], r[2])))
  end
  for _, p in ipairs(ps) do s = s + tonumber(p:read("a")); p:close() end
  check(s, "processes")
end
local function one_proc() procs { { 1, N } } end
local function two_procs() procs { { 1, N // 2 }, { N // 2 + 1, N } } end

-- Interleaved so every variant sees the same background noise.
local t1, t2, p1, p2 = math.huge, math.huge, math.huge, math.huge
for _ = 1, REPS do
  t1, t2 = math.min(t1, bench.best(1, one)), math.min(t2, bench.best(1, two))
  p1, p2 = math.min(p1, bench.best(1, one_proc)), math.min(p2, bench.best(1, two_procs))
end
-- CPU time over wall time for one 2-thread run tells two failure modes apart:
-- ~1.0 means the threads were serialised (a lock, or a busy machine), ~2.0
-- with no speedup means they ran together but each ran slower.
local c0, w0 = os.clock(), tide.monotonic()
two()
local par = (os.clock() - c0) / (tide.monotonic() - w0)

local py = bench.python("w6_cpu_split.py")
bench.line("W6 %.0e x s=s+i%%7 (best of %d, %d cpus): tide 1 thread %.3f s   2 threads %.3f s   speedup x%.2f   (target >=1.9; cpu/wall with 2 threads %.2f)",
  N, REPS, tide.cpu_count(), t1, t2, t1 / t2, par)
bench.line("W6 control, same split over 2 separate tide processes: speedup x%.2f (%.3f s -> %.3f s)", p1 / p2, p1, p2)
-- Python runs fewer iterations (it is ~10x slower); rates make it comparable.
bench.line("W6 python (%.0e iterations, GIL): 1 thread %.3f s   2 threads %.3f s   speedup x%.2f",
  py.iterations, py.one_s, py.two_s, py.one_s / py.two_s)
bench.line("W6 per iteration: tide %.1f ns (1 thr) %.1f ns (2 thr)   python %.1f ns (1 thr) %.1f ns (2 thr)   tide faster x%.1f (1 thr) x%.1f (2 thr)",
  t1 / N * 1e9, t2 / N * 1e9, py.one_s / py.iterations * 1e9, py.two_s / py.iterations * 1e9,
  (py.one_s / py.iterations) / (t1 / N), (py.two_s / py.iterations) / (t2 / N))
