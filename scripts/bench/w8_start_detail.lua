-- W8 in detail (issue 14, process start): per start method, ms per
-- start+join and the page faults a child has taken by the time its target
-- runs, beside the C references of the same run (fork+_exit+waitpid, and
-- posix_spawn of /bin/true: build/bench_fork_ref, build/bench_w11_spawn_ref
-- when built) and `tide -e ""` against /bin/true.
-- Usage: tide scripts/bench/w8_start_detail.lua [N] [methods...]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local process = require "tide.process"

local N = tonumber(arg[1]) or 100
local methods = {table.unpack(arg, 2)}
if #methods == 0 then methods = {"fork", "forkserver", "spawn"} end
local REPS = 3
local build = os.getenv("TIDE_BUILD_DIR") or (bench.dir .. "/../../build")

-- The child's own faults so far (its start, up to its target).
local function target() return tide._counters().minflt end

local function run(method, faults)
  for _ = 1, N do
    local p = process.Process{target = target, start_method = method}
    p:start()
    faults[#faults + 1] = p:join()
  end
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2] or 0
end

local function c_ref(exe, args, key)
  local f = io.popen(string.format("'%s/%s' %s 2>/dev/null", build, exe, args))
  if not f then return nil end
  local out = f:read("a")
  f:close()
  return tonumber(out:match(key .. "=(%S+)"))
end

-- N runs of a command line, ms each (best of REPS).
local function command_ms(cmd)
  return bench.best(REPS, function()
    for _ = 1, N do assert(os.execute(cmd)) end
  end) / N * 1e3
end

local load = io.open("/proc/loadavg"):read("l"):match("^(%S+ %S+ %S+)")
bench.line("load average %s", load)
local fork_c = c_ref("bench_fork_ref", N .. " " .. REPS, "c_ms")
local spawn_c = c_ref("bench_w11_spawn_ref", N .. " " .. REPS, "c_ms")
for _, m in ipairs(methods) do
  run(m, {})  -- warm-up (the forkserver starts here)
  local faults = {}
  local ms = bench.best(REPS, run, m, faults) / N * 1e3
  local ref = m == "spawn" and spawn_c or m ~= "spawn" and fork_c
  bench.line("W8 %-10s start+join x%d (best of %d): %.3f ms/process, child faults before its target (median) %d%s",
    m, N, REPS, ms, median(faults),
    ref and string.format("   C %s %.3f ms: x%.2f", m == "spawn" and "posix_spawn(/bin/true)" or "fork+_exit+waitpid", ref, ms / ref) or "")
end
local exe = build .. "/tide"
local t_true = command_ms("/bin/true")
local t_tide = command_ms(string.format("'%s' -e ''", exe))
bench.line("os.execute x%d: tide -e '' %.3f ms   /bin/true %.3f ms   x%.2f (both include a shell)", N, t_tide, t_true, t_tide / t_true)
