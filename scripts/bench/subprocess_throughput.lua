-- Subprocess throughput: 1 GiB from `cat /dev/zero` through
-- Popen(...).stdout:read(65536), GB/s, beside Python reading the same pipe
-- and C reading it with read(2) into one buffer (bench_pipe_throughput_ref,
-- built by CMake): the pipe's own limit on this machine.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local subprocess = require "tide.subprocess"

local TOTAL, REPS = 1 << 30, 3
local build = os.getenv("TIDE_BUILD_DIR") or (arg[-1] or ""):match("^(.*)/") or "build"

local function once()
  local p = subprocess.Popen({"cat", "/dev/zero"}, {stdout = "pipe"})
  local out, got = p.stdout, 0
  while got < TOTAL do
    local chunk = out:read(65536)
    if not chunk then error("cat ended early") end
    got = got + #chunk
  end
  p:kill()
  p:wait()
end

local function figures(cmd)
  local f = io.popen(cmd .. " 2>/dev/null")
  local out = f:read("a")
  f:close()
  local r = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) end
  return r
end

local c = figures(build .. "/bench_pipe_throughput_ref " .. TOTAL .. " " .. REPS)
local gbs = TOTAL / bench.best(REPS, once) / 1e9
local py = bench.python("subprocess_throughput.py")
bench.line("subprocess 1 GiB from cat via stdout:read(65536) (best of %d): tide %.2f GB/s   python %.2f GB/s   C read(2) %s GB/s   tide/C x%.2f",
  REPS, gbs, py.gbs, c.c_gbs and string.format("%.2f", c.c_gbs) or "n/a", c.c_gbs and gbs / c.c_gbs or 0)
