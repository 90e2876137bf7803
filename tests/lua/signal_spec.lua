-- tide.signal (API.md §11): Lua handlers run in the main state at a safe
-- point: inside whatever tide wait the main thread is blocked in (which
-- then goes on), or within a few instructions of busy Lua code; a raising
-- handler's error comes out of that wait. A helper thread sends the signal
-- once the main thread sleeps in the kernel, and releases the wait only
-- after the handler has run: so the handler ran inside the wait. No sleeps
-- order anything.
local T = require "harness"
local tide = require "tide"
local signal = require "tide.signal"
local os_ = require "tide.os"
local thread = require "tide.thread"
local sync = require "tide.sync"

local ME = os_.getpid()

-- Runs in a helper thread: waits until the main thread sleeps in the
-- kernel, sends `sig` to the process, waits for `ran` (set by the handler),
-- then calls release().
local function helper(pid, sig, ran, release)
  local os2, th = require "tide.os", require "tide.thread"
  repeat
    local f = io.open(string.format("/proc/%d/task/%d/stat", pid, pid))
    local stat = f:read("a"); f:close()
    if stat:match("%) S ") then break end
    th.yield()
  until false
  os2.kill(pid, sig)
  if ran then ran:wait() end
  if release then release() end
end

T.test("names and numbers", function()
  T.eq(signal.SIGTERM, 15); T.eq(signal.SIGINT, 2); T.eq(signal.SIGKILL, 9); T.eq(signal.SIGUSR1, 10)
  T.eq(signal.name(15), "SIGTERM"); T.eq(signal.name("TERM"), "SIGTERM"); T.eq(signal.name(signal.SIGRTMIN), "SIGRTMIN")
  T.eq(signal.number("SIGHUP"), 1); T.eq(signal.number("HUP"), 1); T.eq(signal.number(12), 12)
  T.eq(signal.number("SIGIOT"), 6)
  T.eq(signal.SIG_DFL, "default"); T.eq(signal.SIG_IGN, "ignore")
  T.raises("ArgumentError", "unknown signal 'SIGNOPE'", signal.number, "SIGNOPE")
  T.raises("ArgumentError", "out of range", signal.name, 65)
end)

T.test("getsignal and signal return the previous handler, 'default' or 'ignore'", function()
  T.eq(signal.getsignal("SIGTERM"), "default")
  T.eq(signal.getsignal("SIGINT"), "default")  -- tide's own: Ctrl-C raises Interrupted
  T.eq(signal.getsignal("SIGCHLD"), "default")
  local function h() end
  T.eq(signal.signal("SIGUSR2", h), "default")
  T.eq(signal.getsignal("SIGUSR2"), h)
  T.eq(signal.signal("SIGUSR2", "ignore"), h)
  T.eq(signal.signal(12, "default"), "ignore")
  T.eq(signal.getsignal(12), "default")
end)

T.test("raise runs the handler with (signum, name) before it returns", function()
  local got = {}
  signal.signal("SIGUSR1", function(n, name) got[#got + 1] = {n, name} end)
  signal.raise("SIGUSR1")
  T.eq(#got, 1); T.eq(got[1][1], 10); T.eq(got[1][2], "SIGUSR1")
  signal.raise(10)
  T.eq(#got, 2)
  signal.signal("SIGUSR1", "ignore")
  signal.raise("SIGUSR1")  -- ignored: nothing happens
  T.eq(#got, 2)
  signal.signal("SIGUSR1", "default")
end)

T.test("a raising handler's error propagates from raise, like Python", function()
  signal.signal("SIGUSR1", function() error({tag = "from handler"}) end)
  local ok, e = pcall(signal.raise, "SIGUSR1")
  T.falsy(ok); T.eq(e.tag, "from handler")
  signal.signal("SIGUSR1", function() error("plain message") end)
  ok, e = pcall(signal.raise, "SIGUSR1")
  T.falsy(ok); T.match(e, "plain message")
  signal.signal("SIGUSR1", "default")
end)

T.test("a handler runs within a few instructions of a busy Lua loop", function()
  local flag = false
  signal.signal("SIGUSR1", function() flag = true end)
  thread.spawn(function(pid) require("tide.os").kill(pid, "SIGUSR1") end, ME)
  local n = 0
  while not flag do
    n = n + 1
    if n > 5e9 then error("the handler never ran") end
  end
  T.truthy(flag)
  signal.signal("SIGUSR1", "default")
end)

-- Each kind of wait: make() -> call, release; call() blocks until release()
-- (run by the helper thread) and returns `expect`.
local function kinds()
  local pipe, queue, future, sp = require "tide.pipe", require "tide.queue", require "tide.future", require "tide.subprocess"
  local k = {}
  k.event = function()
    local ev = sync.Event()
    return function() return ev:wait() end, function() ev:set() end, true
  end
  k.lock = function()
    local lock = sync.Lock()
    lock:acquire()
    return function() local r = lock:acquire() lock:release() return r end, function() lock:release() end, true
  end
  k.condition = function()
    local c, flag = sync.Condition(), require("tide.shared").Value("int", 0)
    return function()
      return c:with(function() return c:wait_for(function() return flag.value == 1 end) end)
    end, function() c:with(function() flag.value = 1 c:notify_all() end) end, true
  end
  k.semaphore = function()
    local s = sync.Semaphore(0)
    return function() return s:acquire() end, function() s:release() end, true
  end
  k.barrier = function()
    local b = sync.Barrier(2)
    return function() return b:wait() >= 0 end, function() b:wait() end, true
  end
  k.queue_get = function()
    local q = queue.Queue()
    return function() return q:get() end, function() q:put("item") end, "item"
  end
  k.queue_select = function()
    local q1, q2 = queue.Queue(), queue.Queue()
    return function() local _, v = queue.select({q1, q2}) return v end, function() q2:put("sel") end, "sel"
  end
  k.future_result = function()
    local f = future.new()
    return function() return f:result() end, function() f:set_result(42) end, 42
  end
  k.thread_join = function()
    local ev = sync.Event()
    local t = thread.spawn(function(e) e:wait() return "joined" end, ev)
    return function() return t:join() end, function() ev:set() end, "joined"
  end
  k.pipe_recv = function()
    local a, b = pipe.Pipe()
    return function() return b:recv() end, function() a:send("msg") end, "msg"
  end
  k.pipe_wait = function()
    local a, b = pipe.Pipe()
    return function() return #pipe.wait({b}) end, function() a:send(1) end, 1
  end
  k.os_read = function()
    local r, w = os_.pipe()
    return function() local s = os_.read(r, 10) os_.close(r) return s end,
           function() require("tide.os").write(w, "bytes") require("tide.os").close(w) end, "bytes"
  end
  k.os_waitpid = function()
    local r, w = os_.pipe()
    local pid = T.fork(function() os_.close(w) os_.read(r, 1) return 3 end)
    os_.close(r)
    return function() local _, st = os_.waitpid(pid, 0) return os_.waitstatus_to_exitcode(st) end,
           function() require("tide.os").close(w) end, 3
  end
  k.popen_wait = function()
    local r, w = os_.pipe()
    local p = sp.Popen({"head", "-c", "1"}, {stdin = r, stdout = "null"})
    os_.close(r)
    return function() return p:wait() end, function() require("tide.os").write(w, "x") require("tide.os").close(w) end, 0
  end
  k.popen_communicate = function()
    local r, w = os_.pipe()
    local p = sp.Popen({"head", "-c", "1"}, {stdin = r, stdout = "pipe"})
    os_.close(r)
    return function() return (p:communicate()) end, function() require("tide.os").write(w, "y") require("tide.os").close(w) end, "y"
  end
  k.stream_read = function()
    local r, w = os_.pipe()
    local p = sp.Popen({"head", "-c", "1"}, {stdin = r, stdout = "pipe"})
    os_.close(r)
    return function() local s = p.stdout:read(1) p:wait() return s end,
           function() require("tide.os").write(w, "z") require("tide.os").close(w) end, "z"
  end
  return k
end

T.test("a handler runs while the main thread is blocked in every kind of tide wait, and the wait goes on", function()
  local count, ran = 0, sync.Event()
  signal.signal("SIGUSR1", function() count = count + 1 ran:set() end)
  local names = {}
  for name in pairs(kinds()) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local call, release, expect = kinds()[name]()
    ran:clear()
    local before = count
    local h = thread.spawn(helper, ME, "SIGUSR1", ran, release)
    local got = call()
    h:join()
    T.eq(got, expect, name)
    T.eq(count, before + 1, name .. ": the handler ran once")
  end
  signal.signal("SIGUSR1", "default")
end)

T.test("tide.sleep runs the handler and sleeps on", function()
  local ran = sync.Event()
  signal.signal("SIGUSR1", function() ran:set() end)
  local h = thread.spawn(helper, ME, "SIGUSR1", nil, nil)
  tide.sleep(0.3)
  h:join()
  T.truthy(ran:is_set(), "handler ran during the sleep")
  signal.signal("SIGUSR1", "default")
end)

T.test("a handler that raises ends the blocked wait with its error", function()
  signal.signal("SIGUSR1", function() error({tag = "raised in handler"}) end)
  for _, name in ipairs{"event", "os_read", "popen_wait", "pipe_recv", "future_result"} do
    local call, release = kinds()[name]()
    local h = thread.spawn(helper, ME, "SIGUSR1", nil, nil)
    local ok, e = pcall(call)
    h:join()
    T.falsy(ok, name)
    T.eq(type(e) == "table" and e.tag, "raised in handler", name)
    release()
  end
  signal.signal("SIGUSR1", "default")
end)

T.test("a handler runs in a coroutine's wait too", function()
  local ran = sync.Event()
  signal.signal("SIGUSR1", function() ran:set() end)
  local ev = sync.Event()
  local h = thread.spawn(helper, ME, "SIGUSR1", ran, function() ev:set() end)
  local co = coroutine.wrap(function() return ev:wait() end)
  T.eq(co(), true)
  h:join()
  signal.signal("SIGUSR1", "default")
end)

T.test("a signal that arrives during a handler runs after it returns", function()
  local order = {}
  signal.signal("SIGUSR2", function() order[#order + 1] = "usr2" end)
  signal.signal("SIGUSR1", function()
    order[#order + 1] = "usr1 start"
    signal.raise("SIGUSR2")
    order[#order + 1] = "usr1 end"
  end)
  signal.raise("SIGUSR1")
  T.same(order, {"usr1 start", "usr1 end", "usr2"})
  signal.signal("SIGUSR1", "default"); signal.signal("SIGUSR2", "default")
end)

T.test("SIGINT raises Interrupted unless a handler is set", function()
  T.raises("Interrupted", signal.raise, "SIGINT")
  local n = 0
  T.eq(signal.signal("SIGINT", function() n = n + 1 end), "default")
  signal.raise("SIGINT")
  T.eq(n, 1)
  T.eq(type(signal.signal("SIGINT", "default")), "function")
  T.raises("Interrupted", signal.raise, "SIGINT")
end)

T.test("from a worker: signal/getsignal are InvalidState, raise and kill reach the main state", function()
  local t = thread.spawn(function()
    local s = require "tide.signal"
    local ok1, e1 = pcall(s.signal, "SIGUSR1", "ignore")
    local ok2, e2 = pcall(s.getsignal, "SIGUSR1")
    return ok1, e1.kind, ok2, e2.kind
  end)
  local ok1, k1, ok2, k2 = t:join()
  T.eq(ok1, false); T.eq(k1, "InvalidState"); T.eq(ok2, false); T.eq(k2, "InvalidState")
  local ev = sync.Event()
  signal.signal("SIGUSR1", function() ev:set() end)
  thread.spawn(function() require("tide.signal").raise("SIGUSR1") end):join()
  T.eq(ev:wait(10), true)
  signal.signal("SIGUSR1", "default")
end)

T.test("kill sends to a child; a fork child of tide.process has no Lua handlers", function()
  local r, w = os_.pipe()
  local pid = T.fork(function() os_.read(r, 1) return 0 end)
  signal.kill(pid, "SIGTERM")
  T.eq(T.exit_code(pid), -15)
  os_.close(r); os_.close(w)
  signal.signal("SIGUSR1", function() end)
  local p = require("tide.process").Process{start_method = "fork", target = function()
    local o = require "tide.os"
    o.kill(o.getpid(), "SIGUSR1")
    require("tide.sync").Event():wait()
  end}
  p:start()
  p:wait()
  T.eq(p.exitcode, -10)
  -- tide.os.fork keeps the state, and so the handlers
  local count = 0
  signal.signal("SIGUSR1", function() count = count + 1 end)
  pid = T.fork(function() signal.raise("SIGUSR1") return count end)
  T.eq(T.exit_code(pid), 1)
  signal.signal("SIGUSR1", "default")
end)

T.test("a tide.process child sets its own handler, whichever thread started it", function()
  for _, method in ipairs{"fork", "forkserver", "spawn"} do
    local function child(ready)
      require("tide.signal").signal("SIGTERM", function() error("terminated", 0) end)
      -- The signal comes after ready:set(): inside the pcall either way.
      local ok, e = pcall(function() ready:set() require("tide.sync").Event():wait() end)
      return e  -- the handler's error, from the wait (or wherever it struck)
    end
    local ev = sync.Event()
    -- started from a worker thread: a fork goes through the launcher thread
    local p = thread.spawn(function(fn, e, m)
      local pr = require("tide.process").Process{target = fn, args = {e}, start_method = m}
      pr:start()
      return pr
    end, child, ev, method)
    local pr = p:join()
    ev:wait()
    pr:terminate()
    T.eq(pr:join(), "terminated", method)
    T.eq(pr.exitcode, 0, method)
  end
end)

T.test("a SIGCHLD handler runs and waiting for children still works", function()
  local n = 0
  signal.signal("SIGCHLD", function() n = n + 1 end)
  local pid = T.fork(function() return 4 end)
  T.eq(T.exit_code(pid), 4)
  T.eq(require("tide.subprocess").run({"true"}).returncode, 0)
  tide.sleep(0)  -- a wait: runs what is pending
  T.truthy(n >= 1, "handler ran")
  T.eq(signal.signal("SIGCHLD", "default") ~= nil, true)
  T.eq(signal.getsignal("SIGCHLD"), "default")
  pid = T.fork(function() return 6 end)
  T.eq(T.exit_code(pid), 6)
end)

T.test("bad arguments", function()
  T.raises("ArgumentError", "unknown signal", signal.signal, "SIGNOPE", "ignore")
  T.raises("ArgumentError", "out of range", signal.signal, 0, "ignore")
  T.raises("ArgumentError", "out of range", signal.signal, 65, "ignore")
  T.raises("ArgumentError", "handler must be a function, 'default' or 'ignore', got 'igore'", signal.signal, "SIGUSR1", "igore")
  T.raises("ArgumentError", "got number", signal.signal, "SIGUSR1", 5)
  T.raises("ArgumentError", "got no value", signal.signal, "SIGUSR1")
  T.raises("ArgumentError", "got nil", signal.signal, "SIGUSR1", nil)
  T.raises("ArgumentError", "used by tide", signal.signal, "SIGURG", "ignore")
  T.raises("ArgumentError", "cannot return from SIGSEGV", signal.signal, "SIGSEGV", function() end)
  local e = T.raises("OSError", signal.signal, "SIGKILL", "ignore")
  T.eq(e.errno, 22)
  T.raises("OSError", signal.signal, "SIGSTOP", function() end)
  T.eq(signal.getsignal("SIGKILL"), "default")
  T.raises("ArgumentError", signal.kill, "x", 15)
  T.raises("ArgumentError", signal.raise, {})
  T.raises("OSError", "No such process", signal.kill, 2^22 + 12345, 0)
end)

T.test("SIGTERM handler in a script: runs at the safe point and the script exits cleanly", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local script = [[
    local signal = require "tide.signal"
    signal.signal("SIGTERM", function(n, name) print("handler", n, name) os.exit(0) end)
    print(require("tide.os").getpid()) io.stdout:flush()
    require("tide.sync").Event():wait()]]
  local f = assert(io.popen(bin .. " -e '" .. script .. "' 2>&1; echo status $?"))
  local pid = math.tointeger(tonumber(f:read("l")))
  os_.kill(pid, "SIGTERM")
  local rest = f:read("a")
  f:close()
  T.eq(rest, "handler\t15\tSIGTERM\nstatus 0\n")
end)

T.done()
