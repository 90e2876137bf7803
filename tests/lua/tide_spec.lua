-- The root module (API.md §0, §1) and tide.log (§13).
local T = require "harness"
local tide = require "tide"

T.test("version, cpu_count, monotonic", function()
  T.match(tide.version, "^%d+%.%d+%.%d+$")
  T.truthy(math.type(tide.cpu_count()) == "integer" and tide.cpu_count() >= 1, "cpu_count")
  local a = tide.monotonic()
  local b = tide.monotonic()
  T.eq(type(a), "number")
  T.truthy(b >= a, "monotonic does not go back")
end)

T.test("submodules load lazily and are the same as require", function()
  T.eq(rawget(tide, "thread"), nil)
  T.eq(tide.thread, require "tide.thread")
  T.eq(rawget(tide, "thread"), require "tide.thread")
  T.eq(tide.log, require "tide.log")
  T.eq(tide.no_such_module, nil)
end)

T.test("sleep validates its argument and sleeps", function()
  local t0 = tide.monotonic()
  tide.sleep(0.02)
  T.truthy(tide.monotonic() - t0 >= 0.015, "slept")
  T.raises("ArgumentError", tide.sleep, -0.5)
  T.raises("ArgumentError", tide.sleep, "1")
  T.raises("ArgumentError", tide.sleep, 0 / 0)
end)

local kinds = {"Timeout", "Empty", "Full", "Closed", "Cancelled", "BrokenBarrier", "TransferError",
               "RemoteError", "WorkerDied", "BrokenPool", "AbandonedLock", "CalledProcessError",
               "InvalidState", "Interrupted", "OSError", "ArgumentError"}

T.test("tide.error builds every kind with kind/message/traceback/cause", function()
  for _, k in ipairs(kinds) do
    local e = tide.error(k, "msg " .. k)
    T.eq(e.kind, k)
    T.eq(e.message, "msg " .. k)
    T.eq(type(e.traceback), "string")
    T.eq(e.cause, nil)
    T.eq(tostring(e), k .. ": msg " .. k)
    T.truthy(tide.is_error(e), "is_error")
    T.truthy(tide.is_error(e, k), "is_error of its kind")
    T.falsy(tide.is_error(e, k == "Timeout" and "Empty" or "Timeout"), "not another kind")
  end
end)

T.test("is_error is false for non-errors; error rejects unknown kinds", function()
  T.falsy(tide.is_error("Timeout"))
  T.falsy(tide.is_error({kind = "Timeout"}))
  T.falsy(tide.is_error(nil))
  T.raises("ArgumentError", "unknown error kind", tide.error, "Nope", "x")
  T.raises("ArgumentError", tide.error, 42)
end)

T.test("tide errors can be raised and caught like any value", function()
  local ok, e = pcall(error, tide.error("Closed", "gone"))
  T.eq(ok, false)
  T.truthy(tide.is_error(e, "Closed"), "caught")
end)

T.test("log functions format and validate", function()
  local log = require "tide.log"
  log.set_level("off")
  log.info("hello %d %s", 1, "x")
  log.debug("plain")
  T.raises("ArgumentError", "unknown level", log.set_level, "loud")
  log.set_level("warn")
  T.eq(log.get_level(), "warning")
end)

T.done()
