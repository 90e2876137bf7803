-- async.subprocess: run, check_output and Popen whose waits await. Each
-- test proves the loop keeps running while a child is awaited (another
-- task must run for the child to finish), orders the child with pipes and
-- FIFOs (never sleeps), and checks what is left behind (no child, no open
-- stream). A wait_for around a run is a hang guard, not an ordering.
local T = require "harness"
local tide = require "tide"
local async = require "tide.async"
local os_ = require "tide.os"
local pipe = require "tide.pipe"
local sp = async.subprocess

local GUARD = T.sanitizer and 60 or 20  -- seconds: a hang guard

local function alive(pid)
  local ok = pcall(os_.kill, pid, 0)
  return ok
end

local function kind_of(f, ...)
  local ok, e = pcall(f, ...)
  T.falsy(ok, "expected an error")
  return tide.is_error(e) and e.kind or tostring(e), e
end

local function run(fn)
  return async.run(function() return async.wait_for(fn, GUARD) end)
end

T.test("run: return code, captured stdout and stderr, input; check_output", function()
  run(function()
    local r = sp.run({"sh", "-c", "echo out; echo err >&2; exit 2"}, {capture = true})
    T.eq(r.returncode, 2); T.eq(r.stdout, "out\n"); T.eq(r.stderr, "err\n")
    T.eq(r.args[1], "sh")
    local r2 = sp.run({"tr", "a-z", "A-Z"}, {input = "hello", capture = true})
    T.eq(r2.stdout, "HELLO"); T.eq(r2.returncode, 0)
    local r3 = sp.run({"true"})
    T.eq(r3.returncode, 0); T.eq(r3.stdout, nil); T.eq(r3.stderr, nil)
    T.eq(sp.check_output({"sh", "-c", "printf '%s' \"$0\"", "x y"}), "x y")
    T.eq(sp.check_output("echo $((6 * 7))", {shell = true}), "42\n")
  end)
end)

T.test("run with check: CalledProcessError carrying returncode, cmd, stdout and stderr", function()
  run(function()
    local k, e = kind_of(sp.run, {"sh", "-c", "echo o; echo e >&2; exit 3"}, {check = true, capture = true})
    T.eq(k, "CalledProcessError"); T.eq(e.returncode, 3); T.eq(e.cmd[1], "sh")
    T.eq(e.stdout, "o\n"); T.eq(e.stderr, "e\n")
    T.match(e.message, "non%-zero exit status 3")
    k, e = kind_of(sp.check_output, {"sh", "-c", "kill -9 $$"})
    T.eq(k, "CalledProcessError"); T.eq(e.returncode, -9)
  end)
end)

T.test("the loop runs while a child is awaited: a task feeds the child another task reads", function()
  run(function()
    local p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
    -- The reader awaits first; the child answers only once the writer ran.
    local reader = async.spawn(function() return p.stdout:read("l") end)
    local writer = async.spawn(function() p.stdin:write("hello", " ", 42, "\n") end)
    T.eq(async.await(reader), "hello 42")
    async.await(writer)
    p.stdin:write("a\nb\nlast")
    p.stdin:close()
    local lines = {}
    for l in p.stdout:lines() do lines[#lines + 1] = l end
    T.eq(table.concat(lines, ","), "a,b,last")
    T.eq(p.stdout:read(1), nil)
    T.eq(p:wait(), 0); T.eq(p.returncode, 0)
  end)
end)

T.test("stream reads: read(n), read(0), read('L'), read('a'), read() at the end", function()
  run(function()
    local p = sp.Popen({"printf", "abcdef\\nxyz\\n"}, {stdout = "pipe"})
    T.eq(p.stdout:read(3), "abc")
    T.eq(p.stdout:read(0), "")
    T.eq(p.stdout:read("L"), "def\n")
    T.eq(p.stdout:read("a"), "xyz\n")
    T.eq(p.stdout:read("a"), "")
    T.eq(p.stdout:read(0), nil)
    T.eq(p.stdout:read("l"), nil)
    T.eq(p:wait(), 0)
  end)
end)

T.test("a line longer than many pipe chunks, and lines('L')", function()
  run(function()
    local long = string.rep("x", 3 * 1024 * 1024 + 17)
    local p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
    local writer = async.spawn(function()
      p.stdin:write(long, "\nshort\n", "tail")
      p.stdin:close()
    end)
    local first = p.stdout:read("l")
    T.eq(#first, #long); T.truthy(first == long, "the same bytes")
    local rest = {}
    for l in p.stdout:lines("L") do rest[#rest + 1] = l end
    T.eq(rest[1], "short\n"); T.eq(rest[2], "tail"); T.eq(#rest, 2)
    async.await(writer)
    T.eq(p:wait(), 0)
  end)
end)

T.test("a loop in a worker thread runs commands too", function()
  local thread = require "tide.thread"
  local t = thread.Thread{target = function()
    local a = require "tide.async"
    return a.run(function()
      local r = a.subprocess.run({"sh", "-c", "echo from-thread"}, {capture = true})
      return r.stdout, r.returncode
    end)
  end}
  t:start()
  local out, rc = t:join()
  T.eq(out, "from-thread\n"); T.eq(rc, 0)
end)

T.test("a pipeline of async Popens: the first one's stdout is the second one's stdin", function()
  run(function()
    local p1 = sp.Popen({"printf", "hda1\\nsda1\\nhda2\\n"}, {stdout = "pipe"})
    local p2 = sp.Popen({"grep", "hda"}, {stdin = p1.stdout, stdout = "pipe"})
    T.truthy(p1.stdout.closed, "the first stdout is the second child's now")
    local out = p2:communicate()
    T.eq(out, "hda1\nhda2\n")
    T.eq(p1:wait(), 0); T.eq(p2.returncode, 0)
  end)
end)

T.test("communicate: 4 MB each way through cat without a deadlock, while another task runs", function()
  run(function()
    local ticks = 0
    local ticker = async.spawn(function() while true do ticks = ticks + 1; async.sleep(0) end end)
    local big = string.rep("0123456789abcdef", 256 * 1024)
    local p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
    local out, err = p:communicate(big)
    T.eq(#out, #big); T.truthy(out == big, "the same bytes back"); T.eq(err, "")
    T.eq(p.returncode, 0)
    T.truthy(ticks > 0, "the other task ran meanwhile")
    ticker:cancel()
  end)
end)

T.test("communicate: Timeout carries the output so far and leaves the child; a later communicate returns all", function()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir " .. dir)
  local fifo = dir .. "/gate"
  pipe.fifo(fifo)
  run(function()
    local p = sp.Popen({"sh", "-c", "echo first; read x < " .. fifo .. "; echo second"}, {stdout = "pipe"})
    local k, e = kind_of(p.communicate, p, nil, 0.2)
    T.eq(k, "Timeout"); T.eq(e.stdout, "first\n"); T.eq(e.timeout, 0.2); T.eq(e.cmd[1], "sh")
    T.eq(p:poll(), nil, "still running")
    local w = io.open(fifo, "w")  -- opens once the child opened its end
    w:write("go\n")
    w:close()
    local out = p:communicate()
    T.eq(out, "first\nsecond\n")
    T.eq(p.returncode, 0)
  end)
  os.remove(fifo)
  os.remove(dir)
end)

T.test("wait: Timeout leaves the child running; kill, then wait gives -9", function()
  run(function()
    local p = sp.Popen({"sleep", "60"})
    local k, e = kind_of(p.wait, p, 0.05)
    T.eq(k, "Timeout"); T.eq(e.timeout, 0.05)
    T.truthy(alive(p.pid), "the child runs on")
    p:kill()
    T.eq(p:wait(), -9); T.eq(p:poll(), -9)
    T.falsy(alive(p.pid), "reaped")
  end)
end)

T.test("run timeout: the child (its whole group with new_session) is killed and reaped; Timeout has the output", function()
  run(function()
    local k, e = kind_of(sp.run, {"sh", "-c", "echo $$; sleep 60 & echo $!; wait"},
                         {capture = true, timeout = 0.3, new_session = true})
    T.eq(k, "Timeout"); T.eq(e.timeout, 0.3)
    local sh, sleeper = e.stdout:match("^(%d+)\n(%d+)\n$")
    T.truthy(sh and sleeper, "both pids were written: " .. tostring(e.stdout))
    T.falsy(alive(math.tointeger(tonumber(sh))), "the shell was reaped")
    -- the grandchild got SIGKILL with its group; init reaps it
    local deadline = tide.monotonic() + GUARD
    while alive(math.tointeger(tonumber(sleeper))) and tide.monotonic() < deadline do async.sleep(0.01) end
    local f = io.open("/proc/" .. sleeper .. "/stat")
    local state = f and f:read("a"):match("%) (%a)")
    if f then f:close() end
    T.truthy(state == nil or state == "Z", "the grandchild is gone")
  end)
end)

T.test("cancelling a task in run kills and reaps its child; cancelling a wait leaves the Popen usable", function()
  run(function()
    local r, w = os_.pipe()
    local t = async.spawn(function() return sp.run({"sh", "-c", "echo $$; exec sleep 60"}, {stdout = w}) end)
    async.readable(r)
    local pid = math.tointeger(tonumber(os_.read(r, 100)))
    os_.close(r); os_.close(w)
    T.truthy(alive(pid))
    t:cancel()
    T.eq(kind_of(async.await, t), "Cancelled")
    T.falsy(alive(pid), "the child was killed and reaped")

    local p = sp.Popen({"cat"}, {stdin = "pipe"})
    local waiter = async.spawn(function() return p:wait() end)
    async.sleep(0)
    waiter:cancel()
    T.eq(kind_of(async.await, waiter), "Cancelled")
    p.stdin:close()
    T.eq(p:wait(), 0)
  end)
end)

T.test("<close>: a normal exit awaits the child, an error kills it", function()
  run(function()
    local pid
    do
      local p <close> = sp.Popen({"sh", "-c", "exit 5"}, {stdout = "pipe"})
      pid = p.pid
    end
    T.falsy(alive(pid), "reaped at the scope's end")
    local ok = pcall(function()
      local p <close> = sp.Popen({"sleep", "60"})
      pid = p.pid
      error("boom")
    end)
    T.falsy(ok)
    T.falsy(alive(pid), "killed and reaped")
  end)
end)

T.test("writing to a child that exited: OSError (EPIPE), the host lives", function()
  run(function()
    local p = sp.Popen({"true"}, {stdin = "pipe"})
    T.eq(p:wait(), 0)
    local k, e = kind_of(function() for _ = 1, 100 do p.stdin:write(string.rep("x", 65536)) end end)
    T.eq(k, "OSError"); T.eq(e.errno, 32)
    p.stdin:close()
    -- communicate ignores EPIPE, as Python's does
    local q = sp.Popen({"true"}, {stdin = "pipe"})
    T.eq(q:wait(), 0)
    T.eq(select("#", q:communicate(string.rep("y", 1 << 20))), 2)
  end)
end)

T.test("bad input: typed errors", function()
  T.eq(kind_of(sp.run, {"true"}), "InvalidState", "outside a task")
  T.eq(kind_of(sp.check_output, {"true"}), "InvalidState")
  run(function()
    T.eq(kind_of(sp.run, {"true"}, {bogus = 1}), "ArgumentError")
    T.eq(kind_of(sp.run, {"true"}, {capture = true, stdout = "pipe"}), "ArgumentError")
    T.eq(kind_of(sp.run, {"true"}, {input = "x", stdin = "pipe"}), "ArgumentError")
    T.eq(kind_of(sp.run, {"true"}, {input = 5}), "ArgumentError")
    T.eq(kind_of(sp.run, {"true"}, {timeout = -1}), "ArgumentError")
    T.eq(kind_of(sp.check_output, {"true"}, {stdout = "pipe"}), "ArgumentError")
    T.eq(kind_of(sp.run, {}), "ArgumentError")
    T.eq(kind_of(sp.run, 42), "ArgumentError")
    T.eq(kind_of(sp.Popen, {"true"}, "opts"), "ArgumentError")
    T.eq(kind_of(sp.run, {"/nonexistent/program"}), "OSError")
    local p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
    T.eq(kind_of(p.stdout.read, p.stdout, "x"), "ArgumentError")
    T.eq(kind_of(p.stdout.read, p.stdout, -1), "ArgumentError")
    T.eq(kind_of(p.stdout.lines, p.stdout, "a"), "ArgumentError")
    T.eq(kind_of(p.stdin.write, p.stdin, {}), "ArgumentError")
    T.eq(kind_of(p.stdout.write, p.stdout, "x"), "InvalidState", "stdout is read, not written")
    T.eq(kind_of(p.stdin.read, p.stdin), "InvalidState")
    T.eq(kind_of(p.wait, p, "soon"), "ArgumentError")
    T.eq(kind_of(p.communicate, p, 42), "ArgumentError")
    T.eq(kind_of(p.wait), "ArgumentError", "called with '.'")
    T.eq(kind_of(p.stdout.read), "ArgumentError")
    p.stdin:close()
    T.eq(kind_of(p.stdin.write, p.stdin, "x"), "InvalidState", "closed")
    T.eq(kind_of(p.communicate, p, "input"), "InvalidState", "stdin is closed")
    T.eq(p:communicate(), "")
    T.truthy(p.stdout.closed)
    local q = sp.Popen({"true"})
    T.eq(kind_of(q.communicate, q, "x"), "InvalidState", "no stdin pipe")
    T.eq(q:wait(), 0)
  end)
  local p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
  T.eq(kind_of(p.wait, p), "InvalidState", "waiting needs a task")
  T.eq(kind_of(p.stdout.read, p.stdout, "l"), "InvalidState", "a read that has to wait needs a task")
  p:kill()
  p.stdin:close()
  p.stdout:close()
end)

T.done()
