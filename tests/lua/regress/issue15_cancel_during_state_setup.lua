-- Found while hardening (issue 15): a cancel whose signal reached a new
-- thread while it was still making its Lua state hooked nothing (no state
-- to hook yet), so a busy loop in the thread never stopped. The spin
-- before each cancel walks the cancel across the thread's start-up.
local T = require "harness"
local thread = require "tide.thread"
local tide = require "tide"

T.test("a busy thread cancelled at any moment of its start-up stops", function()
  for i = 1, 400 do
    local t = thread.spawn(function() local x = 0 while true do x = x + 1 end end)
    local spin = (i % 40) * 8e-6
    local t0 = tide.monotonic()
    while tide.monotonic() - t0 < spin do end
    t:cancel()
    -- 30 s: a hang detector, not an ordering
    local ok, e = pcall(t.join, t, 30)
    T.eq(ok, false); T.eq(tide.is_error(e, "Cancelled") and "Cancelled" or tostring(e), "Cancelled", "run " .. i)
  end
end)

T.done()
