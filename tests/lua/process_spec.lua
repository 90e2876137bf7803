-- tide.process (API.md §7): the same cross-process scenarios under each
-- start method (fork, spawn, forkserver), plus argument checks and state
-- errors. Processes are ordered with tide objects and joins, never sleeps.
local T = require "harness"
local tide = require "tide"
local process = require "tide.process"
local queue = require "tide.queue"
local sync = require "tide.sync"
local os_ = require "tide.os"

local METHODS = process.get_all_start_methods()

T.test("start methods: all three, forkserver by default", function()
  T.same(METHODS, {"fork", "spawn", "forkserver"})
  T.eq(process.get_start_method(), "forkserver")
  process.set_start_method("spawn")
  T.eq(process.get_start_method(), "spawn")
  process.set_start_method("forkserver")
  T.raises("ArgumentError", "start method", process.set_start_method, "vfork")
  T.raises("ArgumentError", process.set_start_method, 3)
end)

T.test("arguments: target must be a function or have run; bad fields", function()
  T.raises("ArgumentError", "target", process.Process, {})
  T.raises("ArgumentError", "target", process.Process, {target = 42})
  T.raises("ArgumentError", "run method", process.Process, {target = {}})
  T.raises("ArgumentError", "args", process.Process, {target = print, args = 3})
  T.raises("ArgumentError", "name", process.Process, {target = print, name = {}})
  T.raises("ArgumentError", "daemon", process.Process, {target = print, daemon = 1})
  T.raises("ArgumentError", "start_method", process.Process, {target = print, start_method = "thread"})
  T.raises("ArgumentError", process.Process, "not a table")
  T.raises("ArgumentError", process.spawn, 42)
  T.raises("TransferError", "coroutine", process.spawn, function() end, coroutine.create(print))
end)

for _, m in ipairs(METHODS) do
  local function P(opts)
    opts.start_method = m
    return process.Process(opts)
  end

  T.test(m .. ": target args and all return values come back; pid, name, exitcode", function()
    local p = P{target = function(a, t, s) return a * 2, nil, t.x .. s, process.current().name end,
                args = {21, {x = "he"}, "llo"}, name = "adder"}
    T.eq(p.pid, nil)
    T.eq(p.exitcode, nil)
    T.eq(p.name, "adder")
    T.eq(p.start_method, m)
    p:start()
    T.truthy(p.pid > 0 and p.pid ~= os_.getpid(), "child pid")
    local r = table.pack(p:join())
    T.eq(r.n, 4)
    T.eq(r[1], 42); T.eq(r[2], nil); T.eq(r[3], "hello"); T.eq(r[4], "adder")
    T.eq(p.exitcode, 0)
    T.eq(p:is_alive(), false)
    T.eq(p:wait(0), true)
    T.match(tostring(p), "stopped exitcode=0")
  end)

  T.test(m .. ": the child knows its parent; current() has name and pid", function()
    local p = P{target = function()
      local pr = require("tide.process")
      return pr.parent().pid, pr.current().pid, require("tide.os").getpid()
    end}
    p:start()
    local parent, cur, real = p:join()
    T.eq(parent, os_.getpid())
    T.eq(cur, real)
    T.eq(cur, p.pid)
    T.eq(process.parent(), nil, "the test script has no tide parent")
    T.eq(process.current().name, "MainProcess")
  end)

  T.test(m .. ": an error in the child -> RemoteError with its traceback, exitcode 1", function()
    local p = P{target = function() local function inner() error({code = 7}) end inner() end}
    p:start()
    local e = T.raises("RemoteError", "Process%-%d+", p.join, p)
    T.eq(type(e.cause), "table")
    T.eq(e.cause.code, 7)
    T.match(e.traceback, "inner")
    T.eq(p.exitcode, 1)
    T.eq(p:wait(), true, "wait never raises the child's error")
  end)

  T.test(m .. ": a child that sends itself SIGSEGV -> WorkerDied SIGSEGV, exitcode -11", function()
    -- Run in a sub-tide whose sanitizer runtime (if any) leaves SIGSEGV
    -- alone: ASan/TSan would otherwise catch it and exit 66.
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(string.format([[
      local process, tide = require "tide.process", require "tide"
      local p = process.Process{target = function() local o = require("tide.os"); o.kill(o.getpid(), 11) end,
                                start_method = %q}
      p:start()
      local ok, e = pcall(p.join, p)
      print(ok, tide.is_error(e, "WorkerDied"), e.message, p.exitcode)
    ]], m))
    f:close()
    local opts = "handle_segv=0:allow_user_segv_handler=1"
    local cmd = string.format("ASAN_OPTIONS=%s:%s TSAN_OPTIONS=%s:%s %s %s 2>&1",
      os.getenv("ASAN_OPTIONS") or "", opts, os.getenv("TSAN_OPTIONS") or "", opts,
      os.getenv("TIDE_BIN") or "tide", script)
    local pipe = assert(io.popen(cmd))
    local out = pipe:read("a")
    pipe:close()
    os.remove(script)
    T.match(out, "^false\ttrue\tprocess 'Process%-1' was killed by SIGSEGV\t%-11\n$")
  end)

  T.test(m .. ": os.exit(3) in the child -> WorkerDied naming code 3", function()
    local p = P{target = function() os.exit(3) end}
    p:start()
    T.raises("WorkerDied", "code 3", p.join, p)
    T.eq(p.exitcode, 3)
  end)

  T.test(m .. ": terminate() -> exitcode -15; kill() -> -9; join timeout", function()
    local started = sync.Event()
    local p = P{target = function(ev) ev:set(); require("tide.sync").Event():wait() end, args = {started}}
    p:start()
    T.eq(started:wait(30), true)
    T.eq(p:is_alive(), true)
    T.raises("Timeout", p.join, p, 0)
    T.eq(p:wait(0.01), false)
    p:terminate()
    T.raises("WorkerDied", "SIGTERM", p.join, p)
    T.eq(p.exitcode, -15)
    local q = P{target = function(ev) ev:set(); require("tide.sync").Event():wait() end, args = {started}}
    started:clear()
    q:start()
    started:wait()
    q:kill()
    T.eq(q:wait(), true)
    T.eq(q.exitcode, -9)
    q:terminate()  -- after it ended: nothing happens
  end)

  T.test(m .. ": InvalidState: start twice, join/wait/terminate before start, close while running", function()
    local p = P{target = function(ev) ev:wait() end, args = {sync.Event()}}
    T.raises("InvalidState", "before it is started", p.join, p)
    T.raises("InvalidState", p.wait, p)
    T.raises("InvalidState", p.terminate, p)
    T.eq(p:is_alive(), false)
    p:start()
    T.raises("InvalidState", "twice", p.start, p)
    T.raises("InvalidState", "running", p.close, p)
    p:kill()
    p:wait()
    p:close()
    p:close()
    T.raises("InvalidState", "released", p.start, p)
  end)

  T.test(m .. ": a target table with a run method (and methods from its metatable)", function()
    local Counter = {}
    Counter.__index = Counter
    function Counter.new(n) return setmetatable({n = n}, Counter) end
    function Counter:double() return self.n * 2 end
    function Counter:run(extra) return self:double() + extra end
    local p = P{target = Counter.new(20), args = {2}}
    p:start()
    T.eq(p:join(), 42)
  end)

  T.test(m .. ": process.spawn, active_children, daemon and name fields", function()
    process.set_start_method(m)
    local go = sync.Event()
    local p = process.spawn(function(ev) ev:wait(); return "spawned" end, go)
    process.set_start_method("forkserver")
    local kids = process.active_children()
    local found = false
    for _, k in ipairs(kids) do if k == p then found = true end end
    T.truthy(found, "active_children lists the running child")
    T.raises("InvalidState", function() p.daemon = true end)
    p.name = "renamed"
    T.eq(p.name, "renamed")
    go:set()
    T.eq(p:join(), "spawned")
    for _, k in ipairs(process.active_children()) do T.truthy(k ~= p, "ended child not listed") end
  end)

  T.test(m .. ": 200 processes started at once, all joined", function()
    local n = 200
    local ps = {}
    for i = 1, n do
      ps[i] = P{target = function(x) return x * x end, args = {i}}
      ps[i]:start()
    end
    local sum = 0
    for i = 1, n do sum = sum + ps[i]:join() end
    T.eq(sum, n * (n + 1) * (2 * n + 1) // 6)
    T.eq(#process.active_children(), 0)
  end)

  T.test(m .. ": a Process started from a tide thread", function()
    local thread = require "tide.thread"
    local t = thread.spawn(function(method)
      local pr = require "tide.process"
      local p = pr.Process{target = function() return "from thread" end, start_method = method}
      p:start()
      return p:join()
    end, m)
    T.eq(t:join(), "from thread")
  end)

  T.test(m .. ": a parent killed with SIGKILL leaves no child after one second", function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(string.format([[
      local process, queue, os_ = require "tide.process", require "tide.queue", require "tide.os"
      local q = queue.Queue()
      local ps = {}
      for i = 1, 2 do
        ps[i] = process.Process{target = function(q)
          q:put(require("tide.os").getppid())
          require("tide.sync").Event():wait()
        end, args = {q}, start_method = %q, daemon = i == 2}
        ps[i]:start()
      end
      print(ps[1].pid, ps[2].pid, q:get(), q:get())
      io.stdout:flush()
      os_.kill(os_.getpid(), 9)
    ]], m))
    f:close()
    local code, out = T.run_tide(script)
    os.remove(script)
    T.eq(code, 137, "the parent died of SIGKILL")
    local pids = {}
    for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    T.eq(#pids, 4, out)
    local left = T.still_alive(pids, 1)
    T.eq(#left, 0, "children (or the forkserver) still alive: " .. table.concat(left, " "))
  end)
end

T.test("forkserver: a request signed with a wrong key is refused", function()
  local p = process.Process{target = function() return 1 end, start_method = "forkserver"}
  p:start()
  T.eq(p:join(), 1, "the server is up")
  T.eq(process._forkserver_probe(string.rep("k", 32)), "refused")
  T.eq(process._forkserver_probe(""), "refused")
  local q = process.Process{target = function() return 2 end, start_method = "forkserver"}
  q:start()
  T.eq(q:join(), 2, "the server still serves authenticated requests")
end)

T.test("exit: non-daemon children are joined, daemon children terminated", function()
  local code, out, err = T.run_tide([[-e "
    local process, sync = require 'tide.process', require 'tide.sync'
    local ev = sync.Event()
    local d = process.Process{target = function(e) e:wait() end, args = {ev}, daemon = true}
    d:start()
    local n = process.Process{target = function() print('non-daemon done') end}
    n:start()
    print('parent done')
  "]])
  T.eq(code, 0, err)
  T.match(out, "parent done")
  T.match(out, "non%-daemon done")
end)

T.done()
