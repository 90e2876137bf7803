-- Issue 15 defect 7: cancel() on an already cancelled future returned false;
-- Python's returns true (f.cancel(), f.cancel() -> True True). A running or
-- completed future still cannot be cancelled.
local T = require "harness"
local future = require "tide.future"
local thread = require "tide.thread"

T.test("cancel twice returns true twice", function()
  local f = future.new()
  T.eq(f:cancel(), true)
  T.eq(f:cancel(), true)
  T.eq(f:cancelled(), true)
end)

T.test("a completed or failed future still cannot be cancelled", function()
  local f, g = future.new(), future.new()
  f:set_result(1)
  g:set_exception("x")
  T.eq(f:cancel(), false); T.eq(g:cancel(), false)
  T.eq(f:cancelled(), false); T.eq(g:cancelled(), false)
end)

T.test("cancels racing in two threads both report true", function()
  for _ = 1, 50 do
    local f = future.new()
    local t = thread.spawn(function(x) return x:cancel() end, f)
    local mine = f:cancel()
    T.eq(mine, true); T.eq(t:join(), true)
  end
end)

T.done()
