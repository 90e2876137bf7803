-- A parent and its child talk over a duplex tide.pipe.Pipe (Python's
-- multiprocessing.Pipe example). The child is made with tide.os.fork here;
-- tide.process works the same way.
local pipe = require "tide.pipe"
local os_ = require "tide.os"

local parent_end, child_end = pipe.Pipe()

local pid = os_.fork()
if pid == 0 then
  parent_end:close()               -- the child's copy of the other end
  print("child got: " .. child_end:recv())
  child_end:send("hello, father")
  child_end:close()
  io.stdout:flush()                -- _exit skips stdio's buffers
  os_._exit(0)
end

child_end:close()                  -- the parent's copy of the child's end
parent_end:send("hello, son")
print("parent got: " .. parent_end:recv())
local _, status = os_.waitpid(pid, 0)
print("child exited with " .. os_.waitstatus_to_exitcode(status))
