-- Port of the seed "two processes started then joined": both run at once;
-- the parent waits for both.
local process = require "tide.process"

local function worker(n)
  print("worker " .. n .. " done")
  return n * 10
end

local a = process.Process{target = worker, args = {1}}
local b = process.Process{target = worker, args = {2}}
a:start()
b:start()
print("joined", a:join() + b:join())
