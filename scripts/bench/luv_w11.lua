-- luv's uv.spawn twin of W11, run by a stock lua5.4 with lua-luv
-- (Debian's package): spawn /bin/true N times, each waited for by the loop;
-- prints "luv_ms=<ms per run>" (best of REPS).
local uv = require "luv"
local N, REPS = tonumber(arg[1]) or 1000, tonumber(arg[2]) or 3

local function run()
  for _ = 1, N do
    local handle
    handle = uv.spawn("/bin/true", {args = {}}, function(code)
      assert(code == 0)
      handle:close()
    end)
    uv.run()
  end
end

local best = math.huge
for _ = 1, REPS do
  local t0 = uv.hrtime()
  run()
  best = math.min(best, (uv.hrtime() - t0) / 1e9)
end
print(string.format("luv_ms=%.4f", best / N * 1e3))
