-- tide.pool.ProcessPool (API.md §6): the pool interface with worker
-- processes, in every start method; workers that die, overrun or fail to
-- start. Ordering uses Events and queues, never sleeps.
local T = require "harness"
local tide = require "tide"
local pool = require "tide.pool"
local future = require "tide.future"
local sync = require "tide.sync"
local queue = require "tide.queue"
local shared = require "tide.shared"
local os_ = require "tide.os"

local METHODS = {"fork", "spawn", "forkserver"}

local function getpid() return require("tide.os").getpid() end

for _, m in ipairs(METHODS) do
  T.test(m .. ": submit, map, starmap and apply run in worker processes", function()
    local p <close> = pool.ProcessPool{workers = 2, start_method = m}
    T.eq(p.start_method, m)
    local f = p:submit(function(a, b) return a + b, a .. b, nil, {a}, getpid() end, 1, 2)
    local x, y, z, t, pid = f:result()
    T.eq(x, 3); T.eq(y, "12"); T.eq(z, nil); T.same(t, {1})
    T.truthy(pid ~= os_.getpid(), "ran in another process")
    local list = {}
    for i = 1, 1000 do list[i] = i end
    local r = p:map(function(v) return v * v end, list)
    T.eq(#r, 1000)
    for i = 1, 1000 do T.eq(r[i], i * i) end
    T.same(p:starmap(function(a, b) return a * b end, {{2, 3}, {4, 5}}), {6, 20})
    T.eq(p:apply(string.rep, "ab", 3), "ababab")
  end)

  T.test(m .. ": tide objects in arguments and results work in the workers", function()
    local p <close> = pool.ProcessPool{workers = 2, start_method = m}
    local q, lock, v, ev = queue.Queue(), sync.Lock(), shared.Value("int", 0), sync.Event()
    local fut = future.new()
    local fs = {}
    for i = 1, 4 do
      fs[i] = p:submit(function(q_, lock_, v_, ev_, fut_, i_)
        lock_:with(function() v_.value = v_.value + i_ end)
        q_:put(i_)
        if i_ == 4 then fut_:set_result("from a worker") end
        if i_ == 1 then ev_:wait() end
        return require("tide.queue").Queue(), i_  -- a new object comes back
      end, q, lock, v, ev, fut, i)
    end
    local got = {}
    for _ = 1, 4 do got[#got + 1] = q:get() end
    table.sort(got)
    T.same(got, {1, 2, 3, 4})
    T.eq(fut:result(), "from a worker")
    ev:set()
    for i = 1, 4 do
      local back, n = fs[i]:result()
      T.eq(n, i)
      back:put("works here")
      T.eq(back:get(), "works here")
    end
    T.eq(v.value, 10)
  end)

  T.test(m .. ": pipe connections made after the workers started work in their tasks", function()
    local pipe = require "tide.pipe"
    local p <close> = pool.ProcessPool{workers = 2, start_method = m}
    p:map(function(x) return x end, {1, 2}, {chunksize = 1})  -- both workers are up
    local a, b = pipe.Pipe()
    local f = p:submit(function(conn, x) conn:send({x, "from a worker"}) return conn:recv() end, b, 42)
    T.same(a:recv(30), {42, "from a worker"})
    a:send("reply")
    T.eq(f:result(), "reply")
    -- The same connection again (the worker has it now), and one closed here.
    T.eq(p:submit(function(conn) conn:send("again") return true end, b):result(), true)
    T.eq(a:recv(30), "again")
    local c, d = pipe.Pipe()
    d:close()
    local g = p:submit(function(conn) return pcall(conn.send, conn, "x") end, d)
    local ok, e = g:result()
    T.eq(ok, false); T.truthy(tide.is_error(e, "InvalidState"), tostring(e))
    c:close()
  end)

  T.test(m .. ": a worker killed mid-task fails that task with WorkerDied; the rest completes", function()
    local p <close> = pool.ProcessPool{workers = 2, start_method = m}
    local q, ev = queue.Queue(), sync.Event()
    local victim = p:submit(function(q_, e) q_:put(require("tide.os").getpid()) e:wait() return "never" end, q, ev)
    local pid = q:get()
    local others = {}
    for i = 1, 20 do others[i] = p:submit(function(x) return x * 2 end, i) end
    os_.kill(pid, "SIGKILL")
    local e = T.raises("WorkerDied", "was killed by SIGKILL", victim.result, victim)
    T.eq(e.signal, "SIGKILL"); T.eq(e.exitcode, -9)
    T.match(e.worker, "^ProcessPool%-%d+_%d+$")
    T.match(e.message, "pid " .. pid)
    for i = 1, 20 do T.eq(others[i]:result(), i * 2) end
    ev:set()
    -- A replacement serves: two tasks at once, neither in the dead process.
    local started, go = sync.Barrier(3), sync.Event()
    local a = p:submit(function(b, g) b:wait() g:wait() return require("tide.os").getpid() end, started, go)
    local b = p:submit(function(b_, g) b_:wait() g:wait() return require("tide.os").getpid() end, started, go)
    started:wait()
    go:set()
    T.truthy(a:result() ~= pid and b:result() ~= pid and a:result() ~= b:result())
  end)

  T.test(m .. ": a task calling os.exit fails with WorkerDied naming the exit code", function()
    local p <close> = pool.ProcessPool{workers = 1, start_method = m}
    local f = p:submit(function() os.exit(7) end)
    local e = T.raises("WorkerDied", "exited with code 7", f.result, f)
    T.eq(e.exitcode, 7); T.eq(e.signal, nil)
    T.eq(p:submit(function() return "still serving" end):result(), "still serving")
  end)
end

T.test("a worker that dies while idle is replaced silently", function()
  local code, out, err = T.run_tide([[-e '
    local tide, os_ = require "tide", require "tide.os"
    local p <close> = require("tide.pool").ProcessPool{workers = 1}
    local pid = p:apply(os_.getpid)
    os_.kill(pid, "SIGKILL")
    -- Until its supervisor reaped it (a hang detector, not an ordering).
    local deadline = tide.monotonic() + 10
    local function alive() local f = io.open("/proc/" .. pid .. "/stat") if f then f:close() end return f end
    while alive() and tide.monotonic() < deadline do tide.sleep(0.001) end
    print(p:apply(os_.getpid) ~= pid, p:apply(function() return "served" end))']])
  T.eq(code, 0)
  T.eq(out, "true\tserved\n")
  T.eq(err, "", "nothing logged")
end)

T.test("a task that segfaults fails with WorkerDied SIGSEGV; the pool keeps serving", function()
  -- In a sub-tide whose sanitizer runtime (if any) leaves SIGSEGV alone.
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local pool, tide = require "tide.pool", require "tide"
    local p <close> = pool.ProcessPool{workers = 1}
    local s = p:submit(function() local o = require("tide.os") o.kill(o.getpid(), "SIGSEGV") end)
    local ok, e = pcall(s.result, s)
    print(ok, tide.is_error(e, "WorkerDied"), e.signal, e.exitcode, p:submit(function() return "next" end):result())
  ]])
  f:close()
  local opts = "handle_segv=0:allow_user_segv_handler=1"
  local cmd = string.format("ASAN_OPTIONS=%s:%s TSAN_OPTIONS=%s:%s %s %s 2>&1",
    os.getenv("ASAN_OPTIONS") or "", opts, os.getenv("TSAN_OPTIONS") or "", opts,
    os.getenv("TIDE_BIN") or "tide", script)
  local pipe = assert(io.popen(cmd))
  local out = pipe:read("a")
  pipe:close()
  os.remove(script)
  T.eq(out, "false\ttrue\tSIGSEGV\t-11\tnext\n")
end)

T.test("task_timeout kills a worker stuck in an endless loop; the task fails with Timeout", function()
  local p <close> = pool.ProcessPool{workers = 1, task_timeout = 0.2}
  local stuck = p:submit(function() while true do end end)
  local queued = p:submit(function() return "after" end)
  local e = T.raises("Timeout", "task_timeout %(0%.2 s%)", stuck.result, stuck)
  T.match(e.message, "was killed")
  T.eq(queued:result(), "after")
  -- A task that ends in time is not affected, however long the worker lives.
  T.eq(p:submit(function() return 1 end):result(), 1)
end)

T.test("retries re-run a task whose worker died, then give up with WorkerDied", function()
  local p <close> = pool.ProcessPool{workers = 1, retries = 2}
  local runs = shared.Value("int", 0)
  local f = p:submit(function(n)
    if n:add(1) <= 2 then local o = require("tide.os") o.kill(o.getpid(), "SIGKILL") end
    return "third run", n.value
  end, runs)
  local what, n = f:result()
  T.eq(what, "third run"); T.eq(n, 3)
  local always = shared.Value("int", 0)
  local g = p:submit(function(n) n:add(1) local o = require("tide.os") o.kill(o.getpid(), "SIGKILL") end, always)
  T.raises("WorkerDied", "SIGKILL", g.result, g)
  T.eq(always.value, 3, "one run and two retries")
end)

T.test("an initializer runs once per worker; one that raises breaks the pool with its error as cause", function()
  local p <close> = pool.ProcessPool{workers = 2, initializer = function(a, b) _G.setting = a .. b end,
                                     initargs = {"x", "y"}}
  T.same(p:map(function() return _G.setting end, {1, 2, 3, 4}, {chunksize = 1}), {"xy", "xy", "xy", "xy"})
  local bad = pool.ProcessPool{workers = 2, initializer = function(x) error("no database " .. x) end,
                               initargs = {"here"}}
  local e = T.raises("BrokenPool", "initializer raised", function() return bad:submit(function() return 1 end):result() end)
  T.match(tostring(e.cause), "no database here")
  local e2 = T.raises("BrokenPool", "is broken", bad.submit, bad, print)
  T.match(tostring(e2.cause), "no database here")
  T.match(tostring(bad), "broken")
  bad:shutdown()
end)

T.test("a worker that keeps dying at start breaks the pool instead of respawning forever", function()
  local p = pool.ProcessPool{workers = 1, initializer = function() os.exit(5) end}
  local e = T.raises("BrokenPool", "before it was ready, 3 times in a row",
                     function() return p:submit(function() return 1 end):result() end)
  T.truthy(tide.is_error(e.cause, "WorkerDied"), "cause: the death")
  T.eq(e.cause.exitcode, 5)
  p:shutdown()
end)

T.test("a result that cannot be transferred fails its own future; the pool keeps serving", function()
  local p <close> = pool.ProcessPool{workers = 1}
  local f = p:submit(function() return coroutine.create(print) end)
  T.raises("RemoteError", "return value 1: cannot transfer a coroutine", f.result, f)
  local g = p:submit(function() return require("tide.thread").current() end)
  T.raises("TransferError", "cannot be shared between processes", g.result, g)
  T.raises("TransferError", "cannot be shared between processes", p.submit, p, print, require("tide.thread").current())
  T.eq(p:submit(function() return "still serving" end):result(), "still serving")
end)

T.test("max_tasks_per_worker replaces the worker process", function()
  local p <close> = pool.ProcessPool{workers = 1, max_tasks_per_worker = 2}
  local pids = p:map(getpid, {1, 2, 3, 4, 5}, {chunksize = 1})
  T.eq(pids[1], pids[2]); T.truthy(pids[2] ~= pids[3]); T.eq(pids[3], pids[4]); T.truthy(pids[4] ~= pids[5])
end)

T.test("a function is sent once per worker and cached there; closures carry their upvalues", function()
  local p <close> = pool.ProcessPool{workers = 1}
  local function count() _G.n = (_G.n or 0) + 1 return _G.n end
  local fs = {}
  for i = 1, 5 do fs[i] = p:submit(count) end
  for i = 1, 5 do T.eq(fs[i]:result(), i) end
  local k = 1
  local function get() return k end
  local a = p:submit(get)
  k = 2
  T.eq(a:result(), 1); T.eq(p:submit(get):result(), 2)
end)

T.test("imap, imap_unordered and apply_async with callbacks", function()
  local p <close> = pool.ProcessPool{workers = 2}
  local got = {}
  for v, i in p:imap(function(x) return x * 10 end, {1, 2, 3}) do got[#got + 1] = i .. ":" .. v end
  T.eq(table.concat(got, " "), "1:10 2:20 3:30")
  local sum = 0
  for v in p:imap_unordered(function(x) return x end, {1, 2, 3, 4}) do sum = sum + v end
  T.eq(sum, 10)
  local log = {}
  local f1 = p:apply_async(function(a, b) return a + b end, {2, 3}, {callback = function(v) log[#log + 1] = v end})
  local f2 = p:apply_async(function() error("bad") end, nil, {error_callback = function(e) log[#log + 1] = e.kind end})
  future.wait({f1, f2})
  T.same(log, {5, "RemoteError"})
end)

T.test("cancel, shutdown{cancel_futures}, close/join and terminate", function()
  local p = pool.ProcessPool{workers = 1}
  local started, release = sync.Event(), sync.Event()
  local running = p:submit(function(s, r) s:set() r:wait() return "ran" end, started, release)
  local pending = p:submit(function() return "never" end)
  started:wait()
  T.eq(running:cancel(), false)
  T.eq(pending:cancel(), true)
  local queued = p:submit(function() return "dropped" end)
  p:shutdown{wait = false, cancel_futures = true}
  T.truthy(queued:cancelled())
  T.raises("InvalidState", "after shutdown", p.submit, p, print)
  release:set()
  T.eq(running:result(), "ran")
  T.eq(p:join(), true)
  local q = pool.ProcessPool{workers = 1}
  local s2 = sync.Event()
  local blocked = q:submit(function(s) s:set() require("tide.sync").Event():wait() end, s2)
  local waiting = q:submit(function() return 1 end)
  s2:wait()
  q:terminate()
  T.raises("Cancelled", "terminated", blocked.result, blocked)
  T.truthy(waiting:cancelled())
  T.eq(q:join(), true)
  T.match(tostring(q), "^ProcessPool 'ProcessPool%-%d+' %(1 workers, forkserver, shut down%)$")
end)

T.test("after shutdown{wait=true} every worker process is reaped", function()
  local p = pool.ProcessPool{workers = 2}
  local pids = p:map(getpid, {1, 2, 3, 4}, {chunksize = 1})
  p:shutdown()
  for _, pid in ipairs(pids) do
    local s = io.open("/proc/" .. pid .. "/stat")
    T.falsy(s, "worker " .. pid .. " is gone (reaped, not a zombie)")
    if s then s:close() end
  end
  local process = require "tide.process"
  T.eq(#process.active_children(), 0)
end)

T.test("bad options raise ArgumentError", function()
  T.raises("ArgumentError", "start_method", pool.ProcessPool, {start_method = "thread"})
  T.raises("ArgumentError", "retries", pool.ProcessPool, {retries = -1})
  T.raises("ArgumentError", "task_timeout", pool.ProcessPool, {task_timeout = 0})
  T.raises("ArgumentError", "task_timeout", pool.ProcessPool, {task_timeout = "1"})
  T.raises("ArgumentError", "workers", pool.ProcessPool, {workers = 0})
  T.raises("TransferError", "initializer", pool.ProcessPool,
           {initializer = print, initargs = {require("tide.thread").current()}})
end)

T.test("at exit, process pools finish their queued work", function()
  local code, out = T.run_tide([[-e 'local p = require("tide.pool").ProcessPool{workers = 1}
    local ev = require("tide.sync").Event()
    p:submit(function(e) e:wait() print("first") io.stdout:flush() end, ev)
    p:submit(function() print("second") io.stdout:flush() end)
    ev:set()']])
  T.eq(code, 0)
  T.eq(out, "first\nsecond\n")
end)

T.test("Ctrl-C interrupts a blocking map; the pool is terminated and the script exits 130", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local p = assert(io.popen(bin .. [[ -e 'local pool = require("tide.pool").ProcessPool{workers = 2}
    pool:map(function() return 1 end, {1, 2})  -- the workers are up
    print(require("tide.os").getpid()) io.stdout:flush()
    pool:map(function() require("tide.sync").Event():wait() end, {1, 2, 3, 4})' 2>&1; echo "status $?"]]))
  local pid = math.tointeger(tonumber(p:read("l")))
  os_.kill(pid, "SIGINT")
  local rest = p:read("a")
  p:close()
  T.match(rest, "Interrupted")
  T.match(rest, "status 130")
end)

for _, m in ipairs(METHODS) do
  T.test(m .. ": a parent killed with SIGKILL leaves no worker process behind", function()
    local code, out = T.run_tide(string.format([[-e 'local p = require("tide.pool").ProcessPool{workers = 2, start_method = %q}
      local pids = p:map(function() return require("tide.os").getpid() end, {1, 2, 3, 4}, {chunksize = 1})
      local seen = {}
      for _, pid in ipairs(pids) do if not seen[pid] then seen[pid] = true print(pid) end end
      io.stdout:flush()
      require("tide.os").kill(require("tide.os").getpid(), 9)']], m))
    T.eq(code, 137, "the parent died of SIGKILL")
    local pids = {}
    for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    T.truthy(#pids >= 1, out)
    local left = T.still_alive(pids, 2)
    T.eq(#left, 0, "workers still alive: " .. table.concat(left, " "))
  end)
end

T.done()
