-- Port of the seed "a child puts [42, None, 'hello'] on a Queue": the
-- parent gets it and prints it.
local process = require "tide.process"
local queue = require "tide.queue"

local function f(q) q:put({42, nil, "hello"}) end

local q = queue.Queue()
local p = process.Process{target = f, args = {q}}
p:start()
local item = q:get()
print(item[1], item[2], item[3])
p:join()
