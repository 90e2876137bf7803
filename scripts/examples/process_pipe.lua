-- Python's multiprocessing Pipe example with tide.process: a parent and a
-- Process child talk over a duplex Pipe (any start method works; the
-- default, forkserver, hands the connection to the child by descriptor).
local process = require "tide.process"
local pipe = require "tide.pipe"

local function son(conn)
  conn:send("hello, father")
  print("child got: " .. conn:recv())
  conn:close()
end

local parent_end, child_end = pipe.Pipe()
local p = process.Process{target = son, args = {child_end}}
p:start()
print("parent got: " .. parent_end:recv())
parent_end:send("hello, son")
p:join()
print("child exit code " .. p.exitcode)
