-- tide.cluster (API.md §17): the pool interface over a real redis-server
-- and real `tide worker` processes. Ordering uses Redis lists (BLPOP) and
-- futures, never sleeps. Security: cluster_security_spec.lua; dying
-- workers and a restarting Redis: cluster_chaos_spec.lua.
local T = require "harness"
local tide = require "tide"
local cluster = require "tide.cluster"
local future = require "tide.future"
local cu = require "cluster_util"

local redis = cu.redis()
local URL = redis.url
local conn = redis:conn()

local function pool(opts)
  opts = opts or {}
  opts.url = opts.url or URL
  opts.key = opts.key or cu.KEY
  return cluster.Pool(opts)
end

-- Two worker processes (one loop each) on the default queue, used by
-- most tests below.
local w1 = cu.worker{url = URL}
local w2 = cu.worker{url = URL}

-- Returns the pids of the two workers: each runs one of two tasks that
-- wait for each other (so no worker can run both).
local function both_workers(p)
  local url = URL
  local function meet(me, other)
    local r = require("tide._cluster").redis(url)
    r:call("RPUSH", "meet:" .. other, "x")
    assert(r:call_block(20, "BLPOP", "meet:" .. me, 20), "the other task never came")
    return require("tide.os").getpid()
  end
  local a, b = p:submit(meet, "a", "b"), p:submit(meet, "b", "a")
  return a:result(30), b:result(30)
end

T.test("submit returns a Future with every return value; pools show their state", function()
  local p <close> = pool{name = "basic"}
  local f = p:submit(function(a, b) return a + b, a .. b, nil, {a} end, 1, 2)
  local x, y, z, t = f:result(30)
  T.eq(x, 3); T.eq(y, "12"); T.eq(z, nil); T.same(t, {1})
  T.eq(p.name, "basic"); T.eq(p.queue, "default"); T.eq(p.url, "127.0.0.1:" .. redis.port)
  T.match(p.id, ":%d+:%x+$")
  T.match(tostring(p), "^cluster%.Pool 'basic' %(queue 'default' at 127%.0%.0%.1:%d+, %d+ workers, running%)$")
end)

T.test("both workers serve the queue; workers counts their loops", function()
  local p <close> = pool()
  local a, b = both_workers(p)
  T.truthy(a ~= b, "two different worker processes")
  local pids = {[w1.proc.pid] = true, [w2.proc.pid] = true}
  T.truthy(pids[a] and pids[b], "the tasks ran in the two workers")
end)

T.test("map of 10,000 items with two workers: results in order, both workers took chunks", function()
  local p <close> = pool()
  local url = URL
  local xs = {}
  for i = 1, 10000 do xs[i] = i end
  -- Item 1 waits until item 101 has run: chunk 1 blocks its worker, so
  -- chunk 2 runs on the other one.
  local r = p:map(function(x)
    if x == 1 or x == 101 then
      local redis = require("tide._cluster").redis(url)
      if x == 1 then assert(redis:call_block(20, "BLPOP", "map:go", 20)) else redis:call("RPUSH", "map:go", 1) end
    end
    return {x * x, require("tide.os").getpid()}
  end, xs, {chunksize = 100})
  T.eq(#r, 10000)
  local per = {}
  for i = 1, 10000 do
    T.eq(r[i][1], i * i)
    per[r[i][2]] = (per[r[i][2]] or 0) + 1
  end
  T.eq(per[w1.proc.pid] + per[w2.proc.pid], 10000)
  T.truthy(per[w1.proc.pid] >= 100 and per[w2.proc.pid] >= 100, "each worker ran at least one chunk")
end)

T.test("starmap, imap, imap_unordered, apply and apply_async work as on a ThreadPool", function()
  local p <close> = pool()
  T.same(p:starmap(function(a, b) return a * b end, {{2, 3}, {4, 5}}), {6, 20})
  local got = {}
  for v, i in p:imap(function(x) return x + 1 end, {10, 20, 30}) do got[i] = v end
  T.same(got, {11, 21, 31})
  local seen, n = {}, 0
  for v in p:imap_unordered(function(x) return x * 2 end, {1, 2, 3, 4}) do seen[v] = true n = n + 1 end
  T.eq(n, 4); T.truthy(seen[2] and seen[4] and seen[6] and seen[8])
  T.eq(p:apply(function(a) return a .. "!" end, "hi"), "hi!")
  local q = require("tide.queue").Queue()
  local f = p:apply_async(function(a, b) return a - b end, {9, 4}, {callback = function(v) q:put(v) end})
  T.eq(f:result(30), 5)
  T.eq(q:get(30), 5)  -- the callback runs in this state, at its next wait
  T.same(p:map(function(x) return x end, {}), {})
  T.same(p:map(function(x) return x end, {7}, {progress = true}), {7})  -- no terminal: no bar
end)

T.test("futures from a cluster pool are ordinary futures: as_completed, wait, gather", function()
  local p <close> = pool()
  local futs = {}
  for i = 1, 20 do futs[i] = p:submit(function(x) return x * 10 end, i) end
  local n = 0
  for f in future.as_completed(futs, 30) do
    T.truthy(f:done())
    n = n + 1
  end
  T.eq(n, 20)
  local done, not_done = future.wait(futs, {timeout = 30})
  T.eq(#done, 20); T.eq(#not_done, 0)
  local all = future.gather(futs)
  for i = 1, 20 do T.eq(all[i], i * 10) end
end)

T.test("a task that raises fails its own future with RemoteError naming the worker", function()
  local p <close> = pool()
  local f = p:submit(function() error({code = 7}) end)
  local e = T.raises("RemoteError", "in worker '[^']+:%d+:0'", f.result, f, 30)
  T.eq(e.cause.code, 7)
  T.match(e.worker, ":%d+:0$")
  local e2 = T.raises("RemoteError", "item 3 failed in worker", p.map, p, function(x)
    if x == 3 then error("bad " .. x) end
    return x
  end, {1, 2, 3, 4}, {chunksize = 1})
  T.eq(e2.index, 3)
  T.match(e2.cause, "bad 3")
  T.eq(p:submit(function() return "still serving" end):result(30), "still serving")
end)

T.test("tide objects cannot leave the machine: TransferError naming them, both ways", function()
  local p <close> = pool()
  local sync, queue, shared = require "tide.sync", require "tide.queue", require "tide.shared"
  local l, q, v = sync.Lock(), queue.Queue(), shared.Value("int", 1)
  T.raises("TransferError", "argument 1 %.lock: a tide%.Lock cannot leave this machine", p.submit, p,
           function(t) return t end, {lock = l})
  T.raises("TransferError", "function upvalue 'q': a tide%.Queue cannot leave this machine", p.submit, p,
           function() return q end)
  T.raises("TransferError", "a tide%.Value cannot leave this machine", p.map, p, function(x) return x end, {v})
  T.raises("TransferError", "a tide%.Future cannot leave this machine", p.submit, p, print, future.new())
  T.raises("TransferError", "a tide%.cluster%.Pool cannot leave this machine", p.submit, p, print, p)
  local f = p:submit(function() return require("tide.sync").Lock() end)
  local e = T.raises("RemoteError", "a tide%.Lock cannot leave this machine", f.result, f, 30)
  T.truthy(tide.is_error(e.cause, "TransferError"), "the cause is the TransferError")
end)

T.test("shutdown: later submits raise InvalidState; <close> waits for every result; join", function()
  local results = {}
  do
    local p <close> = pool()
    for i = 1, 10 do results[i] = p:submit(function(x) return x end, i) end
  end
  for i = 1, 10 do T.truthy(results[i]:done(), "result " .. i .. " arrived before <close> returned") end
  local p = pool()
  T.eq(p:submit(function() return 1 end):result(30), 1)
  p:close()
  T.raises("InvalidState", "after shutdown", p.submit, p, print)
  T.truthy(p:join(30))
  T.match(tostring(p), "shut down")
  local q = pool()
  T.raises("InvalidState", "before shutdown", q.join, q, 0)
  q:shutdown{wait = true}
end)

T.test("cancel_futures and terminate cancel the futures still pending", function()
  local p = pool{queue = "nobody"}  -- no worker serves this queue
  local futs = {}
  for i = 1, 5 do futs[i] = p:submit(function() return 1 end) end
  p:shutdown{cancel_futures = true}
  for i = 1, 5 do T.truthy(futs[i]:cancelled()) end
  T.eq(#cu.entries(conn, cu.keys("nobody").tasks), 0, "their tasks were deleted from the stream")
  local q = pool{queue = "nobody"}
  local f = q:submit(function() return 1 end)
  q:terminate()
  T.raises("Cancelled", f.result, f, 1)
end)

T.test("map's timeout raises Timeout and cancels its chunks", function()
  local p <close> = pool{queue = "nobody"}
  T.raises("Timeout", "map: results not ready within 0.2 seconds", p.map, p, function(x) return x end,
           {1, 2, 3}, {timeout = 0.2})
  p:shutdown{cancel_futures = true}
end)

T.test("a fork child cannot submit to its parent's pool: BrokenPool", function()
  local p <close> = pool()
  local pid = T.fork(function()
    local ok, e = pcall(p.submit, p, function() return 1 end)
    return (not ok and tide.is_error(e, "BrokenPool")) and 0 or 1
  end)
  T.eq(T.exit_code(pid), 0)
end)

T.test("bad options are ArgumentErrors naming what is wrong", function()
  T.raises("ArgumentError", "option 'url' is required", cluster.Pool, {key = cu.KEY})
  T.raises("ArgumentError", "unknown option 'urll' %(accepted: url, queue", cluster.Pool, {urll = URL})
  T.raises("ArgumentError", "bad Redis URL", cluster.Pool, {url = "http://x", key = cu.KEY})
  T.raises("ArgumentError", "the port is not 1..65535", cluster.Pool, {url = "redis://h:99999", key = cu.KEY})
  T.raises("ArgumentError", "max_deliveries", pool, {max_deliveries = 0})
  T.raises("ArgumentError", "needs a shared key", cluster.Pool, {url = URL})
  T.raises("ArgumentError", "at least 16 are needed", cluster.Pool, {url = URL, key = "short"})
  T.raises("ArgumentError", "queue name 'a b'", pool, {queue = "a b"})
  T.raises("OSError", "cannot read the key file '/nonexistent/key'", cluster.Pool,
           {url = URL, key_file = "/nonexistent/key"})
  local p <close> = pool()
  T.raises("ArgumentError", "function expected", p.submit, p, "not a function")
end)

T.test("the key may come from key_file or TIDE_CLUSTER_KEY (a child process sees the variable)", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(cu.KEY, "\n")  -- a trailing newline is not part of the key
  f:close()
  local p <close> = cluster.Pool{url = URL, key_file = path}
  T.eq(p:submit(function() return "from file" end):result(30), "from file")
  os.remove(path)
  local subprocess = require "tide.subprocess"
  local code = "local p <close> = require('tide.cluster').Pool{url = '" .. URL .. "'} " ..
               "print(p:submit(function() return 42 end):result(30))"
  local r = subprocess.run({cu.tide_bin, "-e", code}, {capture = true})
  T.eq(r.returncode, 1, "no key in the environment")
  T.match(r.stderr, "needs a shared key")
  r = subprocess.run({cu.tide_bin, "-e", code}, {capture = true, env_add = {TIDE_CLUSTER_KEY = cu.KEY}})
  T.eq(r.returncode, 0, r.stderr); T.eq(r.stdout, "42\n")
end)

T.test("Redis unreachable at start: a clear OSError at once, never a hang", function()
  local closed = "redis://127.0.0.1:" .. (redis.port == 1 and 2 or 1)
  local t0 = tide.monotonic()
  local e = T.raises("OSError", "cannot connect to Redis at 127%.0%.0%.1:1: Connection refused", cluster.Pool,
                     {url = closed, key = cu.KEY})
  T.eq(e.errno, 111)
  T.truthy(tide.monotonic() - t0 < 5, "refused at once")
  -- A server that accepts but never answers: the connect_timeout ends it.
  local silent = require("tide.subprocess").Popen({"python3", "-c",
    "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5); " ..
    "print(s.getsockname()[1], flush=True); sys.stdin.read()"}, {stdin = "pipe", stdout = "pipe"})
  local port = assert(tonumber(silent.stdout:read("l")))
  t0 = tide.monotonic()
  e = T.raises("OSError", "did not answer within 0%.3", cluster.Pool,
               {url = "redis://127.0.0.1:" .. port, key = cu.KEY, connect_timeout = 0.3})
  T.eq(e.errno, 110)
  T.truthy(tide.monotonic() - t0 < 5, "gave up after the timeout")
  silent.stdin:close()
  silent:wait(10)
  -- The worker command says so and exits 1.
  local r = require("tide.subprocess").run({cu.tide_bin, "worker", "--redis", closed, "--concurrency", "1"},
                                           {capture = true, env_add = {TIDE_CLUSTER_KEY = cu.KEY}})
  T.eq(r.returncode, 1)
  T.match(r.stderr, "OSError: cannot connect to Redis at 127%.0%.0%.1:1")
end)

T.test("AUTH with user and password from the URL; wrong credentials are an OSError", function()
  T.eq(conn:call("ACL", "SETUSER", "alice", "on", ">s3cret", "~*", "&*", "+@all"), "OK")
  local p <close> = pool{url = "redis://alice:s3cret@127.0.0.1:" .. redis.port .. "/0"}
  T.eq(p:submit(function() return "authenticated" end):result(30), "authenticated")
  local e = T.raises("OSError", "refused the credentials", pool, {url = "redis://alice:wrong@127.0.0.1:" .. redis.port})
  T.eq(e.errno, 13)
  T.falsy(tostring(e):find("wrong"), "the message never shows the password")
end)

T.test("tide worker --processes runs N supervised processes; --key-file gives the key", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(cu.KEY, "\n")
  f:close()
  local w <close> = cu.worker{url = URL, queue = "procs", concurrency = 2, processes = true, key = false,
                              args = {"--key-file", path}}
  local p <close> = pool{queue = "procs"}
  local url = URL
  local function meet(me, other)
    local r = require("tide._cluster").redis(url)
    r:call("RPUSH", "procs:" .. other, "x")
    assert(r:call_block(20, "BLPOP", "procs:" .. me, 20), "the other task never came")
    return require("tide.os").getpid()
  end
  local a, b = p:submit(meet, "a", "b"), p:submit(meet, "b", "a")
  local pa, pb = a:result(30), b:result(30)
  T.truthy(pa ~= pb, "two worker processes")
  T.truthy(pa ~= w.proc.pid and pb ~= w.proc.pid, "children of the supervisor ran them")
  os.remove(path)
end)

T.test("SIGTERM: the worker finishes its running task, delivers it and exits 0", function()
  local w = cu.worker{url = URL, queue = "term"}
  local _ <close> = w
  local p <close> = pool{queue = "term"}
  local url = URL
  local f = p:submit(function()
    local r = require("tide._cluster").redis(url)
    r:call("RPUSH", "term:started", "x")
    assert(r:call_block(20, "BLPOP", "term:go", 20))
    return "finished"
  end)
  T.truthy(cu.blpop(conn, "term:started", 30))
  w:kill("SIGTERM")
  conn:call("RPUSH", "term:go", "x")
  T.eq(f:result(30), "finished")
  T.eq(w.proc:wait(30), 0)
end)

-- The hostile sweep (sweep_spec.lua) has no Redis, so it cannot make a
-- cluster.Pool: the same corpus of bad values goes to every method of a
-- live one here, at each argument position, and as `self`. Only typed
-- errors (or the trap's own error passed through) may come out.
T.test("every method of a live pool, called with the sweep's bad values, raises typed errors only", function()
  local C = require "sweep.corpus"
  local values = C.values()
  local function value(v) if v.factory then return v.factory() end return v[2] end
  local bad = {}
  local function check(label, ok, err)
    local outcome = C.classify(ok, err)
    if C.FAILURES[outcome] then bad[#bad + 1] = label .. ": " .. outcome .. ": " .. C.describe(err) end
  end
  local FN = function(...) return ... end
  local base = {
    submit = {FN, 1}, map = {FN, {1, 2}}, starmap = {FN, {{1}, {2}}}, imap = {FN, {1, 2}},
    imap_unordered = {FN, {1, 2}}, apply = {FN, 1}, apply_async = {FN, {1}}, join = {0},
  }
  local closers = {shutdown = {{wait = true}}, close = {}, terminate = {}}
  local function drain(...)  -- an imap iterator is run for a few items (a source may be endless: os.clock)
    local it, st, ctl, closer = ...
    if type(it) ~= "function" then return end
    local n = 0
    for _ in it, st, ctl, closer do
      n = n + 1
      if n == 5 then break end
    end
  end
  local p <close> = pool{name = "hostile"}
  local function sweep(p, name, args)
    for pos = 1, math.max(#args, 1) + 1 do
      for _, v in ipairs(values) do
        local a = {table.unpack(args)}
        a[pos] = value(v)
        check(name .. " arg " .. pos .. " = " .. v[1], pcall(function() drain(p[name](p, table.unpack(a, 1, 3))) end))
      end
    end
    for _, v in ipairs(values) do
      check(name .. " self = " .. v[1], pcall(function() drain(p[name](value(v), table.unpack(args))) end))
    end
  end
  for name, args in pairs(base) do sweep(p, name, args) end
  for name, args in pairs(closers) do
    local q = pool{name = "hostile-" .. name}
    sweep(q, name, args)
    q:terminate()
  end
  for _, v in ipairs(values) do  -- fields and tostring
    check("index " .. v[1], pcall(function() return p[value(v)] end))
  end
  check("tostring", pcall(tostring, p))
  p:close()
  for name, args in pairs(base) do  -- and once shut down
    check(name .. " after close", pcall(function() drain(p[name](p, table.unpack(args))) end))
  end
  T.eq(#bad, 0, table.concat(bad, "\n"))
end)

T.test("tide worker --help and bad options", function()
  local code, out = T.run_tide("worker --help", nil)
  T.eq(code, 0); T.match(out, "usage: tide worker %-%-redis URL")
  local code2, _, err = T.run_tide("worker --concurrency 0 --redis " .. URL, nil)
  T.eq(code2, 2); T.match(err, "%-%-concurrency must be an integer")
  local code3, _, err3 = T.run_tide("worker --redis " .. URL .. " --concurrency 1", nil)
  T.eq(code3, 1); T.match(err3, "needs a shared key")
end)

w1:stop()
w2:stop()
redis:stop()
T.done()
