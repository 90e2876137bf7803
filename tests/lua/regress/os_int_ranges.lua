-- tide.os truncated pids to 32 bits (kill(4294967295) became kill(-1):
-- every process of the user), and read(fd, n) allocated n bytes up front.
local T = require "harness"
local os_ = require "tide.os"

T.test("pids and flags outside the int range are ArgumentError", function()
  T.raises("ArgumentError", "out of range", os_.kill, 4294967295, 0)
  T.raises("ArgumentError", "out of range", os_.waitpid, 2^40, 0)
  T.raises("ArgumentError", "out of range", os_.waitpid, -1, 2^40)
  T.raises("ArgumentError", "out of range", os_.waitstatus_to_exitcode, 2^40)
end)

T.test("read with a huge size returns what is there", function()
  local r, w = os_.pipe()
  os_.write(w, "hello")
  T.eq(os_.read(r, math.maxinteger), "hello")
  os_.close(r); os_.close(w)
end)

T.done()
