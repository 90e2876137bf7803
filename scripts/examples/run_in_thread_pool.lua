-- Port of the ThreadPoolExecutor seed: five tasks sleep 7, 3, 4, 5 and 1
-- units (a unit is 0.1 s here) and their results are printed as they
-- complete, so the order is 1, 3, 4, 5, 7 and the whole run takes about
-- 7 units, not the 20 a sequential loop would.
local tide = require "tide"
local pool = require "tide.pool"
local future = require "tide.future"

local UNIT = 0.1

-- A generator in Lua: a coroutine that yields each result in completion order.
local function run_in_thread_pool(fn, params)
  return coroutine.wrap(function()
    local p <close> = pool.ThreadPool{workers = #params}
    local tasks = {}
    for i, kw in ipairs(params) do tasks[i] = p:submit(fn, kw.t, kw.name) end
    for f in future.as_completed(tasks) do coroutine.yield(f:result()) end
  end)
end

local function foo(t, name)
  require("tide").sleep(t * 0.1)
  return t, name
end

local results = run_in_thread_pool(foo, {
  {t = 7, name = "thread_1"},
  {t = 3, name = "thread_2"},
  {t = 4, name = "thread_3"},
  {t = 5, name = "thread_4"},
  {t = 1, name = "thread_5"},
})

local start = tide.monotonic()
for t, name in results do print(t, name) end
print(string.format("total time: %.1f units", (tide.monotonic() - start) / UNIT))
