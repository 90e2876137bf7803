-- Seed port (asyncio notes): an async generator. Python writes
--   async def async_generator():
--       for i in range(10):
--           await asyncio.sleep(1)
--           yield i
-- and reads it with `async for` or one step at a time with anext(). In
-- tide the generator is a function that awaits freely and produces values
-- with coroutine.yield; async.iter runs it.
local async = require "tide.async"

local function async_generator(n, delay)
  for i = 0, n - 1 do
    async.sleep(delay)   -- an await inside the generator
    coroutine.yield(i)
  end
end

async.run(function()
  -- one step at a time (Python's anext)
  local it = async.iter(async_generator, 10, 0.01)
  print("first:", it:next())
  it:close()

  -- the common form: for ... in (Python's async for)
  local got = {}
  for v in async.iter(async_generator, 10, 0.01) do got[#got + 1] = v end
  print("all:", table.concat(got, " "))
end)
