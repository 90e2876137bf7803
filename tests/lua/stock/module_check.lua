-- Run by a stock lua5.4 with LUA_CPATH pointing at the build: tide.so loads
-- and threads run there too.
local T = require "harness"
local tide = require "tide"

T.test("tide loads into stock lua5.4", function()
  T.match(tide.version, "^%d+%.")
  T.eq(type(tide.thread.spawn), "function")
end)

T.test("threads run and return values in a stock interpreter", function()
  local t = tide.thread.spawn(function(x) return x * 3, require("tide").version end, 14)
  local v, ver = t:join()
  T.eq(v, 42)
  T.eq(ver, tide.version)
end)

T.test("errors keep their kind in a stock interpreter", function()
  local t = tide.thread.spawn(function() error("stock boom") end)
  T.raises("RemoteError", "stock boom", t.join, t)
end)

T.test("a write to a pipe with no reader raises OSError EPIPE; the interpreter's SIGPIPE is left alone", function()
  local os_ = require "tide.os"
  local r, w = os_.pipe()
  os_.close(r)
  local e = T.raises("OSError", os_.write, w, "x")
  T.eq(e.errno, 32)
  os_.close(w)
end)

T.test("a fork process pool works in a stock interpreter", function()
  local p <close> = tide.pool.ProcessPool{workers = 2, start_method = "fork"}
  T.same(p:map(function(x) return x * x end, {1, 2, 3}), {1, 4, 9})
  T.truthy(p:apply(function() return require("tide.os").getpid() end) ~= tide.os.getpid())
end)

T.done()
