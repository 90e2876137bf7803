-- Port of the os.pipe seed (example 3): three children, each writing through
-- its own pipe; the parent reads each message in turn.
local os_ = require "tide.os"

for i = 1, 3 do
  local read_end, write_end = os_.pipe()
  if os_.fork() == 0 then            -- child
    os_.close(read_end)
    os_.write(write_end, string.format("Hello from child %d (pid %d)!", i, os_.getpid()))
    os_.close(write_end)
    os_._exit(0)
  end
  os_.close(write_end)               -- parent
  local data = os_.read(read_end, 1024)
  os_.close(read_end)
  print("Received: " .. data:gsub("%(pid %d+%)", "(pid N)"))
end
for _ = 1, 3 do os_.waitpid(-1, 0) end
print("all children reaped")
