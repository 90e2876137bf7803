-- A huge args.n wrapped around as an int and pushed past the Lua stack
-- (segfault). It must be an ArgumentError.
local T = require "harness"
local thread = require "tide.thread"

T.test("Thread{args={n=2^31-1}} is an ArgumentError, not a crash", function()
  T.raises("ArgumentError", "too many arguments", thread.Thread,
           {target = function() end, args = {n = 2147483647}})
  T.raises("ArgumentError", "too many arguments", thread.Thread,
           {target = function() end, args = {n = math.maxinteger}})
  T.raises("ArgumentError", "too many arguments", thread.Thread, {target = function() end, args = {n = -1}})
end)

T.done()
