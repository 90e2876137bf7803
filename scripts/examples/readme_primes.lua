-- The example from README.md, kept runnable (tests/lua/examples_spec.lua runs it).
local thread = require "tide.thread"

local function count_primes(from, to)
  local n = 0
  for i = from, to do
    local prime = i > 1
    for d = 2, math.floor(math.sqrt(i)) do
      if i % d == 0 then prime = false break end
    end
    if prime then n = n + 1 end
  end
  return n, from, to            -- several results come back, in order
end

local a = thread.spawn(count_primes, 1, 500000)       -- runs now, in parallel
local b = thread.spawn(count_primes, 500001, 1000000)
print(a:join() + b:join())                            -- 78498

local ok, err = pcall(function()
  thread.spawn(function() error({code = 7}) end):join()
end)
print(err.kind, err.cause.code)                        -- RemoteError 7
