-- Subprocess throughput: 1 GiB from `cat /dev/zero` through
-- Popen(...).stdout:read(65536), GB/s, beside Python reading the same pipe
-- and C reading it with read(2) into one buffer (bench_pipe_throughput_ref,
-- built by CMake): the pipe's own limit on this machine.
--
-- Each repetition of each of the three runs in a fresh process, and they
-- take turns: on this machine a process's first gigabyte is faster than its
-- later ones (C and Python alike), so all three are measured the same way.
-- `tide subprocess_throughput.lua once` runs one tide repetition.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local subprocess = require "tide.subprocess"
local tide = require "tide"

local TOTAL, REPS = 1 << 30, 3
local build = os.getenv("TIDE_BUILD_DIR") or (arg[-1] or ""):match("^(.*)/") or "build"

-- Timed like the C and Python twins: from the start of the child to the
-- last byte (not the kill and reap after it).
local function once()
  local t0 = tide.monotonic()
  local p = subprocess.Popen({"cat", "/dev/zero"}, {stdout = "pipe"})
  local out, got = p.stdout, 0
  while got < TOTAL do
    local chunk = out:read(65536)
    if not chunk then error("cat ended early") end
    got = got + #chunk
  end
  local dt = tide.monotonic() - t0
  p:kill()
  p:wait()
  return TOTAL / dt / 1e9
end

if arg[1] == "once" then
  print(string.format("gbs=%.3f", once()))
  return
end

local function figures(cmd)
  local f = io.popen(cmd .. " 2>/dev/null")
  local out = f:read("a")
  f:close()
  local r = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) end
  return r
end

local best = {tide = 0, c = 0, python = 0}
for _ = 1, REPS do
  best.c = math.max(best.c, figures(build .. "/bench_pipe_throughput_ref " .. TOTAL .. " 1").c_gbs or 0)
  best.tide = math.max(best.tide, figures(arg[-1] .. " " .. arg[0] .. " once").gbs or 0)
  best.python = math.max(best.python, figures("python3 " .. bench.dir .. "/subprocess_throughput.py 1").gbs or 0)
end
bench.check(best.tide > 0 and best.python > 0, "a throughput run failed")
bench.line("subprocess 1 GiB from cat via stdout:read(65536) (best of %d, fresh processes taking turns): tide %.2f GB/s   python %.2f GB/s   C read(2) %s GB/s   tide/C x%.2f   tide/python x%.2f",
  REPS, best.tide, best.python, best.c > 0 and string.format("%.2f", best.c) or "n/a", best.c > 0 and best.tide / best.c or 0,
  best.tide / best.python)
