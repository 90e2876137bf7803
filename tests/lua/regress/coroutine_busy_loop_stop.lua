-- Hooks are per lua_State: a cancel (or Ctrl-C) hooked the thread's main
-- state, never the coroutine running a busy loop, so it was never stopped.
local T = require "harness"
local thread = require "tide.thread"
local os_ = require "tide.os"

T.test("cancel stops a busy loop inside coroutine.wrap and coroutine.resume", function()
  local t = thread.spawn(function() coroutine.wrap(function() while true do end end)() end)
  t:cancel()
  T.raises("Cancelled", t.join, t)
  local t2 = thread.spawn(function()
    local co = coroutine.create(function() while true do end end)
    while true do coroutine.resume(co) end  -- resume must not swallow Cancelled
  end)
  t2:cancel()
  T.raises("Cancelled", t2.join, t2)
end)

T.test("Ctrl-C stops a busy loop inside a coroutine in the main state", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local p = assert(io.popen(bin .. [[ -e 'print(require("tide.os").getpid()) io.stdout:flush()
    coroutine.wrap(function() while true do end end)()' 2>&1; echo "status $?"]]))
  local pid = math.tointeger(tonumber(p:read("l")))
  os_.kill(pid, "SIGINT")
  local rest = p:read("a")
  p:close()
  T.match(rest, "Interrupted")
  T.match(rest, "status 130")
end)

T.test("coroutines keep their semantics", function()
  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
  T.eq(gen() + gen() + gen(), 6)
  local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) error("x" .. b, 0) end)
  local ok, v = coroutine.resume(co, 1)
  T.eq(ok, true); T.eq(v, 2)
  ok, v = coroutine.resume(co, 5)
  T.eq(ok, false); T.eq(v, "x5")
  ok, v = coroutine.resume(co)
  T.eq(ok, false); T.eq(v, "cannot resume dead coroutine")
  local ok2, err = pcall(coroutine.wrap(function() error("inner") end))
  T.eq(ok2, false); T.match(err, "inner")
  local ok3, msg = pcall(coroutine.resume, 42)   -- the standard library's own error, as in lua
  T.eq(ok3, false); T.match(msg, "coroutine expected")
end)

T.done()
