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

-- Runs the Python twin and returns the "key=value" figures it printed
-- (numbers converted). Fails loudly if Python fails, so a broken twin can
-- never be mistaken for a comparison.
function M.python(script)
  local path = M.dir .. "/" .. script
  local p = assert(io.popen("python3 '" .. path .. "' 2>&1"))
  local out = p:read("a")
  local ok, how, code = p:close()
  if not ok then
    error(string.format("python3 %s failed (%s %s):\n%s", path, how, code, out), 2)
  end
  local r = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  return r
end

function M.check(cond, fmt, ...)
  if not cond then error("CHECK FAILED: " .. string.format(fmt, ...), 2) end
end

function M.line(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush()
end

return M
