-- Issue 15 defect 1: a tide write to a pipe whose reader is gone killed the
-- host with SIGPIPE (exit 141). Every tide write path now raises instead:
-- OSError with errno EPIPE (tide.os.write), Closed (pipe connections), in
-- any thread. Lua's own print/io.write keep stock Lua's behaviour (the
-- process ends on SIGPIPE, so `tide gen.lua | head` stops): see
-- host/core/sigpipe.hpp for why the host does not ignore SIGPIPE.
local T = require "harness"
local tide = require "tide"
local os_ = require "tide.os"
local thread = require "tide.thread"
local pipe = require "tide.pipe"

local EPIPE = 32

T.test("the issue's one-liner prints the OSError and exits 0", function()
  local code, out = T.run_tide([[-e 'local o=require"tide.os" local r,w=o.pipe() o.close(r) print(pcall(o.write,w,"x"))']])
  T.eq(code, 0)
  T.match(out, "^false\tOSError: write: Broken pipe")
end)

T.test("os.write to a pipe with no reader raises OSError EPIPE, in the main state and in a thread", function()
  local r, w = os_.pipe()
  os_.close(r)
  local e = T.raises("OSError", os_.write, w, "x")
  T.eq(e.errno, EPIPE)
  local t = thread.spawn(function(fd)
    local ok, err = pcall(require("tide.os").write, fd, "y")
    return ok, err.kind, err.errno
  end, w)
  local ok, kind, errno = t:join()
  T.eq(ok, false); T.eq(kind, "OSError"); T.eq(errno, EPIPE)
  os_.close(w)
end)

T.test("a FIFO connection whose reader is gone raises Closed", function()
  local path = os.tmpname()
  os.remove(path)
  pipe.fifo(path)
  local reader = pipe.open(path, "r", 0)  -- non-blocking open of the read end
  local writer = pipe.open(path, "w", 5)
  reader:close()
  T.raises("Closed", writer.send, writer, "x")
  writer:close()
  os.remove(path)
end)

T.test("a script printing into a closed pipe still stops (no endless loop)", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  for _, loop in ipairs{[[while true do io.write("y\n") end]], [[while true do print("y") end]]} do
    -- `timeout` is a hang detector: a loop that kept going would be killed (124).
    local p = assert(io.popen(string.format("timeout 60 %s -e '%s' | head -1; echo \"status $?\"", bin, loop)))
    local out = p:read("a")
    p:close()
    T.eq(out, "y\nstatus 0\n", loop)
  end
end)

T.done()
