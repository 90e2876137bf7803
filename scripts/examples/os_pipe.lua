-- Port of the os.pipe seed (example 1): a forked child writes a message into
-- a pipe; the parent reads it.
local os_ = require "tide.os"

local read_end, write_end = os_.pipe()

if os_.fork() == 0 then              -- child
  os_.close(read_end)
  os_.write(write_end, "Hello, pipe!")
  os_.close(write_end)
  os_._exit(0)
end

os_.close(write_end)                 -- parent
local data = os_.read(read_end, 1024)
os_.close(read_end)
print("Received: " .. data)
local _, status = os_.waitpid(-1, 0)
print("child exit code: " .. os_.waitstatus_to_exitcode(status))
