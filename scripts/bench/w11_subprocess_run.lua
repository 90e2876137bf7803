-- W11: subprocess.run({"/bin/true"}) 1000 times (ms per run), beside
-- Python's subprocess.run, luv's uv.spawn (when Debian's lua-luv is
-- installed) and C posix_spawn + waitpid (the limit, bench_w11_spawn_ref
-- built by CMake), all in the same run. Then 8 runs at a time from a
-- ThreadPool of 8 workers beside Python's ThreadPoolExecutor(8).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local subprocess = require "tide.subprocess"
local pool = require "tide.pool"

local N, REPS, PAR = 1000, 3, 8
local build = os.getenv("TIDE_BUILD_DIR") or (arg[-1] or ""):match("^(.*)/") or "build"

local function figures(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local out = p:read("a")
  p:close()
  local r = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) end
  return r
end

local function sequential()
  for _ = 1, N do
    local r = subprocess.run({"/bin/true"})
    if r.returncode ~= 0 then error("W11: /bin/true failed") end
  end
end

local workers = pool.ThreadPool{workers = PAR}
local items = {}
for i = 1, N do items[i] = i end
local function parallel()
  local codes = workers:map(function()
    return require("tide.subprocess").run({"/bin/true"}).returncode
  end, items, {chunksize = 8})
  for i = 1, N do bench.check(codes[i] == 0, "W11 parallel: run %d failed", i) end
end

sequential()  -- warm-up
-- tide and the C reference take turns, one batch each, so that a change
-- in the machine's load falls on both.
local tide_ms, c_ms = math.huge, math.huge
for _ = 1, REPS do
  c_ms = math.min(c_ms, figures(build .. "/bench_w11_spawn_ref " .. N .. " 1").c_ms or math.huge)
  tide_ms = math.min(tide_ms, bench.best(1, sequential) / N * 1e3)
end
local luv = figures("lua5.4 " .. bench.dir .. "/luv_w11.lua " .. N .. " " .. REPS)
local py = bench.python("w11_subprocess_run.py")
bench.line("W11 run(/bin/true) x%d (best of %d): tide %.3f ms/run   python %.3f   luv %s   C posix_spawn+waitpid %s   tide/C x%.2f (target <=1.1)   python/tide x%.2f",
  N, REPS, tide_ms, py.seq_ms, luv.luv_ms and string.format("%.3f", luv.luv_ms) or "n/a (no lua-luv)",
  c_ms < math.huge and string.format("%.3f", c_ms) or "n/a (build bench_w11_spawn_ref)", tide_ms / c_ms, py.seq_ms / tide_ms)

parallel()  -- warm-up
local par_ms = bench.best(REPS, parallel) / N * 1e3
bench.line("W11 %d parallel runs from a ThreadPool{workers=%d}: tide %.3f ms/run (x%.2f vs one at a time)   python ThreadPoolExecutor %.3f ms/run (x%.2f)   cpus %d",
  PAR, PAR, par_ms, tide_ms / par_ms, py.par_ms, py.seq_ms / py.par_ms, require("tide").cpu_count())
workers:shutdown()
