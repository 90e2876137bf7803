-- A child started by spawn or the forkserver (a `tide --worker` or a fork
-- of `tide --forkserver`) did not know the tide command, so a Process or a
-- ProcessPool made there with spawn or forkserver failed with OSError ("set
-- TIDE_EXECUTABLE"): the command recorded its own path only after the
-- hidden modes had returned.
local T = require "harness"
local process = require "tide.process"
local pool = require "tide.pool"

for _, outer in ipairs{"spawn", "forkserver"} do
  T.test(outer .. " child: a Process it starts (default method) runs", function()
    local p = process.Process{target = function()
      local q = require("tide.process").Process{target = function() return "grandchild" end}
      q:start()
      return q:join()
    end, start_method = outer}
    p:start()
    T.eq(p:join(), "grandchild")
  end)
end

T.test("a process pool's task can run its own process pool", function()
  local p <close> = pool.ProcessPool{workers = 1}
  T.eq(p:apply(function()
    local q <close> = require("tide.pool").ProcessPool{workers = 2}
    return table.concat(q:map(function(x) return x + 1 end, {1, 2, 3}), ",")
  end), "2,3,4")
end)

T.done()
