-- Shared helpers for the tide-vs-Python benchmarks in this directory.
-- Scripts load it with:
--   package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local tide = require "tide"

local M = {}

M.dir = arg and arg[0] and arg[0]:match("^(.*)/") or "."

-- Best of n: on a shared machine the minimum is the least noisy estimate of
-- the real cost; slower repetitions measure interference, not tide.
function M.best(n, fn, ...)
  local best
  for _ = 1, n do
    collectgarbage() -- so one repetition does not pay for the previous one's garbage
    local t0 = tide.monotonic()
    fn(...)
    local dt = tide.monotonic() - t0
    if not best or dt < best then best = dt end
  end
  return best
end

-- Runs `cmd` and returns the "key=value" figures it printed (numbers
-- converted); raises, naming `what`, if it fails, so a broken program can
-- never be mistaken for a comparison.
local function figures(cmd, what)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, how, code = p:close()
  if not ok then
    error(string.format("%s failed (%s %s):\n%s", what, how, code, out), 3)
  end
  local r = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  return r
end

-- The Python twin's figures; `prefix` goes before the command (taskset).
function M.python(script, prefix)
  local path = M.dir .. "/" .. script
  local cmd = (prefix or "") .. "python3 '" .. path .. "'"
  return figures(cmd, cmd)
end

-- The figures this same script prints when run again by the same tide
-- binary with `env` (e.g. "X=1 ") and `prefix` (e.g. "taskset -c 0 ")
-- before the command.
function M.rerun(env, prefix)
  local cmd = string.format("%s%s'%s' '%s'", env or "", prefix or "", arg[-1], arg[0])
  return figures(cmd, cmd)
end

-- "taskset -c 0 " when taskset can pin a process to one CPU here, else nil.
function M.one_cpu_prefix()
  local ok = os.execute("taskset -c 0 true >/dev/null 2>&1")
  return ok and "taskset -c 0 " or nil
end

function M.check(cond, fmt, ...)
  if not cond then error("CHECK FAILED: " .. string.format(fmt, ...), 2) end
end

function M.line(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush()
end

-- Where the C reference programs (build/bench_<name>, from scripts/bench/*.c)
-- are: $TIDE_BUILD_DIR (run.sh sets it), else beside the tide binary that
-- runs this script, else build/ at the repository root.
local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

function M.build_dir()
  local env = os.getenv("TIDE_BUILD_DIR")
  if env and env ~= "" then return env end
  local exe_dir = arg and arg[-1] and arg[-1]:match("^(.*)/")
  if exe_dir and exists(exe_dir .. "/bench_fork_ref") then return exe_dir end
  return M.dir .. "/../../build"
end

-- Runs the C reference build/bench_<name> with the given arguments and
-- returns the "key=value" figures it printed (numbers converted). When the
-- program is not built, returns nil and a note to print in its place; when
-- it fails, raises, as M.python does. M.c_prefixed puts `prefix` (taskset)
-- before the command.
function M.c_prefixed(prefix, name, ...)
  local path = M.build_dir() .. "/bench_" .. name
  if not exists(path) then return nil, "n/a (build bench_" .. name .. ")" end
  local cmd = (prefix or "") .. "'" .. path .. "'"
  for _, a in ipairs{...} do cmd = cmd .. " " .. tostring(a) end
  return figures(cmd, cmd)
end

function M.c(name, ...)
  return M.c_prefixed(nil, name, ...)
end

-- This process's futex system calls and page faults (tide._counters(); every
-- thread of the process, none of its children).
function M.counters()
  return tide._counters()
end

-- Per-item differences between two M.counters() snapshots: wakes (FUTEX_WAKE
-- calls), waits (FUTEX_WAIT calls), faults (minor page faults).
function M.per_item(before, after, items)
  return {
    wakes = (after.futex_wake - before.futex_wake) / items,
    waits = (after.futex_wait - before.futex_wait) / items,
    faults = (after.minflt - before.minflt) / items,
  }
end

-- M.best, also counting this process's futex calls and page faults over all
-- n repetitions: returns the best time and the per-item counts (items per
-- repetition given), averaged over the repetitions.
function M.best_counted(n, items, fn, ...)
  local before = M.counters()
  local best = M.best(n, fn, ...)
  return best, M.per_item(before, M.counters(), n * items)
end

-- "wakes/item 0.012  waits/item ...  faults/item 0.003" for a per_item table.
function M.counts(c)
  if not c then return "wakes/item n/a  faults/item n/a" end
  return string.format("wakes/item %.3g  waits/item %.3g  faults/item %.3g", c.wakes, c.waits, c.faults)
end

-- A figure, or "n/a" when it is missing.
function M.num(v, fmt)
  return v and string.format(fmt or "%.3f", v) or "n/a"
end

-- "x1.23": tide's figure divided by a neighbour's, in the figure's own unit
-- (for times above 1 means tide is slower; for rates below 1 it is), or "-"
-- when the neighbour is missing.
function M.ratio(a, b)
  return (a and b and b ~= 0) and string.format("x%.2f", a / b) or "-"
end

-- One comparison line: spec = {name=, unit=, fmt=, tide=, c=, c_label=, c_note=,
-- python=, counts=, extra=, target=}. c and python are figures in the same
-- unit as tide (nil when not measured; c_note says why; python = false: no
-- Python twin); extra is appended as is.
function M.report(spec)
  local fmt = spec.fmt or "%.3f"
  local c_part = ""
  if spec.c ~= nil or spec.c_note then
    c_part = string.format("   %s %s   tide/C %s", spec.c_label or "C", spec.c and string.format(fmt, spec.c) or (spec.c_note or "n/a"),
      M.ratio(spec.tide, spec.c))
  end
  local py_part = ""
  if spec.python ~= false then
    py_part = string.format("   python %s   tide/python %s", M.num(spec.python, fmt), M.ratio(spec.tide, spec.python))
  end
  M.line("%s: tide %s %s%s%s   %s%s%s", spec.name, string.format(fmt, spec.tide), spec.unit, c_part, py_part,
    spec.counts and M.counts(spec.counts) or "", spec.extra or "", spec.target and ("   (target " .. spec.target .. ")") or "")
end

-- Keeps one core busy while it is open: a forked child spinning in Lua.
-- The child also stops by itself after max_s seconds or when its parent
-- is gone, so an error or a kill of this benchmark never leaves it
-- spinning. Use as: local busy <close> = bench.busy_core(60)
function M.busy_core(max_s)
  local os_ = require "tide.os"
  local parent = os_.getpid()
  local pid = os_.fork()
  if pid == 0 then
    local deadline = tide.monotonic() + (max_s or 60)
    while true do
      for _ = 1, 1000000 do end
      if tide.monotonic() > deadline or os_.getppid() ~= parent then os_._exit(0) end
    end
  end
  local h = {pid = pid}
  local function stop()
    if h.pid then
      pcall(os_.kill, h.pid, "KILL")
      pcall(os_.waitpid, h.pid, 0)
      h.pid = nil
    end
  end
  h.stop = stop
  return setmetatable(h, {__close = stop, __gc = stop})
end

return M
