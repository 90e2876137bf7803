-- Python's `with ThreadPoolExecutor() as pool:` is a to-be-closed variable
-- in Lua 5.4: leaving the block shuts the pool down and waits for its
-- tasks, even when the block raises.
local pool = require "tide.pool"

local futures = {}
do
  local p <close> = pool.ThreadPool{workers = 2}
  for i = 1, 4 do futures[i] = p:submit(function(x) return x * x end, i) end
end
-- Every task has finished here.
for i, f in ipairs(futures) do print(i, f:done(), f:result()) end

local ok, err = pcall(function()
  local p <close> = pool.ThreadPool{workers = 1}
  futures.last = p:submit(function() return "finished anyway" end)
  error("the block fails")
end)
print(ok, err:match("the block fails"), futures.last:result())
