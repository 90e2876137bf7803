-- Port of the os.waitpid seed: waitpid(-1, WNOHANG) answers (0, 0) while the
-- children still run, reaps each one after it exits, and then fails with
-- "No child processes". The seed ordered things with sleeps; here the
-- children wait on a pipe the parent closes, so the output is always the same.
local os_ = require "tide.os"

local go_r, go_w = os_.pipe()
for _ = 1, 2 do
  if os_.fork() == 0 then          -- child
    os_.close(go_w)
    os_.read(go_r, 1)              -- blocks until the parent closes its end
    os_._exit(0)
  end
end
os_.close(go_r)

print(os_.waitpid(-1, os_.WNOHANG))   -- 0 0: both children are still waiting
print(os_.waitpid(-1, os_.WNOHANG))   -- 0 0

os_.close(go_w)                       -- release the children
for i = 1, 2 do
  local pid, status = os_.waitpid(-1, 0)
  print(string.format("reaped child %d: pid>0=%s exit code %d", i, tostring(pid > 0),
                      os_.waitstatus_to_exitcode(status)))
end

local ok, err = pcall(os_.waitpid, -1, os_.WNOHANG)
print(ok, err.kind, err.errno, err.message)   -- false OSError 10 waitpid: No child processes
