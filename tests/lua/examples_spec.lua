-- The runnable examples under scripts/examples/, output asserted.
local T = require "harness"
local root = os.getenv("TIDE_SOURCE_DIR") or "."

local function example(name, args)
  return T.run_tide(root .. "/scripts/examples/" .. name .. (args and (" " .. args) or ""))
end

T.test("parallel_sum: the split sum matches the sequential one", function()
  local code, out, err = example("parallel_sum.lua", "200000")
  T.eq(code, 0, err)
  T.match(out, "sum of i %% 7 for i = 1..200000: 599997 %(matches the sequential sum%)")
  T.match(out, "speedup x%d")
end)

T.test("readme_primes: the README example prints what it says", function()
  local code, out, err = example("readme_primes.lua")
  T.eq(code, 0, err)
  T.eq(out, "78498\nRemoteError\t7\n")
end)

T.done()
