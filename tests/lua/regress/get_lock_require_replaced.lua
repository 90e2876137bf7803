-- Value:get_lock() pushed an RLock handle by calling `require` while a C++
-- reference was alive: a script that replaced `require` got a plain string
-- error and the lock leaked.
local T = require "harness"
local shared = require "tide.shared"

T.test("get_lock works when the script replaced require", function()
  local v = shared.Value("int", 1)
  local saved = require
  require = function(m) error("no require for you: " .. m) end
  local ok, lock = pcall(v.get_lock, v)
  require = saved
  T.truthy(ok, "get_lock succeeded")
  T.truthy(lock:acquire(), "the lock works")
  lock:release()
end)

T.done()
