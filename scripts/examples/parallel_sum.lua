-- Sums i % 7 for i = 1..N, first in one thread, then split across one tide
-- thread per core. Each thread runs in its own Lua state on its own OS
-- thread, so with no GIL the split version uses every core.
local tide = require "tide"
local thread = require "tide.thread"

local N = math.tointeger(tonumber(arg and arg[1]) or 4e7)  -- integer loops are faster

local function partial_sum(from, to)
  local s = 0
  for i = from, to do s = s + i % 7 end
  return s
end

local t0 = tide.monotonic()
local expected = partial_sum(1, N)
local sequential = tide.monotonic() - t0

local workers = tide.cpu_count()
local chunk = N // workers
t0 = tide.monotonic()
local threads = {}
for w = 1, workers do
  local from = (w - 1) * chunk + 1
  local to = w == workers and N or w * chunk
  threads[w] = thread.spawn(partial_sum, from, to)  -- the function is copied to the thread
end
local total = 0
for _, t in ipairs(threads) do total = total + t:join() end
local parallel = tide.monotonic() - t0

print(string.format("sum of i %% 7 for i = 1..%d: %d (%s)", N, total,
                    total == expected and "matches the sequential sum" or "MISMATCH"))
print(string.format("1 thread: %.3f s   %d threads: %.3f s   speedup x%.2f",
                    sequential, workers, parallel, sequential / parallel))
os.exit(total == expected and 0 or 1)
