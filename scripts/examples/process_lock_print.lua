-- Port of the multiprocessing Lock seed: 20 processes print "Hello Num: N"
-- under one Lock, so no two lines interleave.
local process = require "tide.process"
local sync = require "tide.sync"

local function f(l, i)
  l:with(function()
    io.write("Hello Num: ", i, "\n")
    io.stdout:flush()
  end)
end

local lock = sync.Lock()
local ps = {}
for num = 1, 20 do
  ps[num] = process.Process{target = f, args = {lock, num}}
  ps[num]:start()
end
for _, p in ipairs(ps) do p:join() end
