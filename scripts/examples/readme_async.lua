-- The README's tide.async example (README.md, "Async tasks").
local async = require "tide.async"
local pool = require "tide.pool"

async.run(function()
  local p <close> = pool.ThreadPool{workers = 2}
  local squares = async.gather(p:submit(function() return 3 * 3 end),
                               function() async.sleep(0.1) return "slept" end)
  print(squares[1], squares[2])                  -- 9  slept
  local q = async.Queue(10)
  local consumer = async.spawn(function()
    for item in q:iter() do print("got", item) end
  end)
  for i = 1, 3 do q:put(i) end
  q:close()
  async.await(consumer)
  local ok, err = pcall(async.wait_for, function() async.sleep(10) end, 0.05)
  print(ok, err.kind)                            -- false  Timeout
end)
