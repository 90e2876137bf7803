-- tide.os (API.md §11) and fork consistency (issue: one object model).
local T = require "harness"
local tide = require "tide"
local os_ = require "tide.os"
local thread = require "tide.thread"

local function child(fn)  -- forks; the child runs fn and exits with its result code
  local pid = os_.fork()
  if pid == 0 then
    local ok, code = pcall(fn)
    os_._exit(ok and (code or 0) or 99)
  end
  return pid
end

local function exit_code(pid)
  local got, status = os_.waitpid(pid, 0)
  T.eq(got, pid, "waitpid pid")
  return os_.waitstatus_to_exitcode(status)
end

T.test("getpid, getppid, and fork gives the child its own pid", function()
  local me = os_.getpid()
  T.truthy(me > 0 and os_.getppid() > 0, "pids")
  local r, w = os_.pipe()
  local pid = child(function()
    os_.write(w, string.format("%d %d", os_.getpid(), os_.getppid()))
    return 0
  end)
  os_.close(w)
  local msg = os_.read(r, 100)
  os_.close(r)
  T.eq(msg, string.format("%d %d", pid, me))
  T.eq(exit_code(pid), 0)
end)

T.test("exit codes and signals through waitstatus_to_exitcode", function()
  T.eq(exit_code(child(function() return 7 end)), 7)
  local r, w = os_.pipe()
  local pid = child(function() os_.read(r, 1) return 0 end)  -- blocks until killed
  os_.kill(pid, "SIGTERM")
  T.eq(exit_code(pid), -15)
  local pid2 = child(function() os_.read(r, 1) return 0 end)
  os_.kill(pid2, 9)
  T.eq(exit_code(pid2), -9)
  os_.close(r); os_.close(w)
end)

T.test("WNOHANG returns 0, 0 while the child runs", function()
  local r, w = os_.pipe()
  local pid = child(function() os_.close(w) os_.read(r, 1) return 3 end)
  os_.close(r)
  local got, status = os_.waitpid(pid, os_.WNOHANG)
  T.eq(got, 0); T.eq(status, 0)
  os_.close(w)
  T.eq(exit_code(pid), 3)
end)

T.test("pipe read/write: partial reads, EOF gives an empty string", function()
  local r, w = os_.pipe()
  T.eq(os_.write(w, "abcdef"), 6)
  T.eq(os_.read(r, 4), "abcd")
  T.eq(os_.read(r, 100), "ef")
  os_.close(w)
  T.eq(os_.read(r, 10), "")
  os_.close(r)
  T.eq(os_.write(select(2, os_.pipe()), ""), 0)
end)

T.test("errors are OSError with errno", function()
  local r, w = os_.pipe()
  os_.close(r); os_.close(w)
  local e = T.raises("OSError", "Bad file descriptor", os_.read, r, 10)
  T.eq(e.errno, 9)
  T.raises("OSError", os_.close, w)
  T.raises("OSError", os_.write, w, "x")
  e = T.raises("OSError", "No child processes", os_.waitpid, -1, os_.WNOHANG)
  T.eq(e.errno, 10)
  T.raises("OSError", "No such process", os_.kill, 2^22 + 12345, 0)
end)

T.test("bad arguments are ArgumentError", function()
  T.raises("ArgumentError", os_.read, "x", 1)
  T.raises("ArgumentError", os_.read, 0, -1)
  T.raises("ArgumentError", os_.write, 1, {})
  T.raises("ArgumentError", "unknown signal", os_.kill, os_.getpid(), "SIGNOPE")
  T.raises("ArgumentError", os_.waitstatus_to_exitcode, 0x7f)  -- stopped, not exited
  T.raises("ArgumentError", os_.waitpid, "all")
end)

T.test("a thread blocked in read or waitpid can be cancelled", function()
  local r, w = os_.pipe()
  local reader = thread.spawn(function(fd) return require("tide.os").read(fd, 10) end, r)
  reader:cancel()
  T.raises("Cancelled", reader.join, reader)
  local pid = child(function() os_.close(w) os_.read(r, 1) return 0 end)
  local waiter = thread.spawn(function(p) return require("tide.os").waitpid(p, 0) end, pid)
  waiter:cancel()
  T.raises("Cancelled", waiter.join, waiter)
  os_.close(w)
  T.eq(exit_code(pid), 0)
  os_.close(r)
end)

T.test("a thread blocked in waitpid returns when the child exits", function()
  local r, w = os_.pipe()
  local pid = child(function() os_.close(w) os_.read(r, 1) return 5 end)
  local waiter = thread.spawn(function(p)
    local os2 = require("tide.os")
    local got, status = os2.waitpid(p, 0)
    return got, os2.waitstatus_to_exitcode(status)
  end, pid)
  os_.close(w)  -- release the child
  local got, code = waiter:join()
  T.eq(got, pid); T.eq(code, 5)
  os_.close(r)
end)

T.test("after fork the child has only the forking thread, and tide still works there", function()
  local r, w = os_.pipe()
  local blocker = thread.spawn(function(fd) return require("tide.os").read(fd, 1) end, r)
  local rr, ww = os_.pipe()
  local pid = child(function()
    local th = require("tide.thread")
    local report = {}
    report[#report + 1] = tostring(th.active_count())
    local ok, err = pcall(blocker.join, blocker)   -- the parent's thread is not here
    report[#report + 1] = tostring(ok) .. " " .. tostring(err.kind)
    report[#report + 1] = tostring(th.spawn(function(x) return x * 2 end, 21):join())
    os_.write(ww, table.concat(report, ","))
    return 0
  end)
  os_.close(ww)
  local msg = os_.read(rr, 200)
  os_.close(rr)
  T.eq(exit_code(pid), 0)
  T.eq(msg, "1,false WorkerDied,42")
  os_.write(w, "x")
  T.eq(blocker:join(), "x")
  os_.close(r); os_.close(w)
end)

T.test("seed ports print what the seeds print", function()
  local root = os.getenv("TIDE_SOURCE_DIR") or "."
  local code, out = T.run_tide(root .. "/scripts/examples/os_waitpid.lua")
  T.eq(code, 0)
  T.eq(out, "0\t0\n0\t0\nreaped child 1: pid>0=true exit code 0\nreaped child 2: pid>0=true exit code 0\n"
         .. "false\tOSError\t10\twaitpid: No child processes\n")
  code, out = T.run_tide(root .. "/scripts/examples/os_pipe.lua")
  T.eq(code, 0)
  T.eq(out, "Received: Hello, pipe!\nchild exit code: 0\n")
  code, out = T.run_tide(root .. "/scripts/examples/os_pipe_children.lua")
  T.eq(code, 0)
  T.eq(out, "Received: Hello from child 1 (pid N)!\nReceived: Hello from child 2 (pid N)!\n"
         .. "Received: Hello from child 3 (pid N)!\nall children reaped\n")
end)

T.done()
