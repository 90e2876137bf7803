-- tide.cluster when things die (API.md §17, issue 13): a worker killed
-- with SIGKILL mid-task (its task is reclaimed and run elsewhere, each
-- result reaches the client once), a task that kills every worker that
-- takes it (WorkerDied after max_deliveries, dead-lettered), and a Redis
-- restarted mid-map with appendonly yes (nothing lost: clients and workers
-- reconnect). Heartbeats are short (cu.BEAT: 0.1 s, 0.5 s under a
-- sanitizer) so a stopped worker's task is reclaimed after 10 missed beats. Ordering goes through
-- Redis lists, named pipes and futures, never sleeps.
local T = require "harness"
local cluster = require "tide.cluster"
local pipe = require "tide.pipe"
local cu = require "cluster_util"

local redis = cu.redis()
local URL = redis.url
local conn = redis:conn()

local function pool(url, opts)
  opts.url = url
  opts.key = cu.KEY
  return cluster.Pool(opts)
end

T.test("SIGKILL of a worker mid-task: the task runs elsewhere, each result reaches the client once", function()
  local w1 <close> = cu.worker{url = URL, queue = "kill", heartbeat = cu.BEAT}
  local w2 <close> = cu.worker{url = URL, queue = "kill", heartbeat = cu.BEAT}
  local p <close> = pool(URL, {queue = "kill"})
  local url = URL
  local function task(i)
    local os_ = require "tide.os"
    local r = require("tide._cluster").redis(url)
    local runs = r:call("HINCRBY", "kill:runs", i, 1)
    if i == 0 and runs == 1 then  -- the first run of task 0 hangs until its worker is killed
      r:call("RPUSH", "kill:started", os_.getpid())
      r:call_block(120, "BLPOP", "kill:never", 120)
    end
    return i * i, os_.getpid()
  end
  local f0 = p:submit(task, 0)
  local victim = math.tointeger(tonumber(cu.blpop(conn, "kill:started", 30)))
  local survivor = victim == w1.proc.pid and w2 or w1
  T.truthy(victim == w1.proc.pid or victim == w2.proc.pid, "task 0 runs in one of the workers")
  local futs = {}
  for i = 1, 50 do futs[i] = p:submit(task, i) end
  local dying = victim == w1.proc.pid and w1 or w2
  dying:kill("SIGKILL")
  local v, pid = f0:result(30)
  T.eq(v, 0); T.eq(pid, survivor.proc.pid, "the survivor ran it again")
  for i = 1, 50 do T.eq(futs[i]:result(30), i * i) end
  T.eq(conn:call("HGET", "kill:runs", "0"), "2", "task 0 ran twice (at least once)")
  for i = 1, 50 do T.eq(conn:call("HGET", "kill:runs", tostring(i)), "1", "task " .. i .. " ran once") end
  T.eq(p.duplicates, 0, "no result arrived twice")
  T.eq(p.pending, 0)
  T.match(survivor:log(), "reclaimed task [%d%-]+ from a worker that stopped %(delivery 2%)")
end)

T.test("a task that kills every worker taking it fails with WorkerDied after max_deliveries, dead-lettered", function()
  local w1 <close> = cu.worker{url = URL, queue = "poison", heartbeat = cu.BEAT}
  local w2 <close> = cu.worker{url = URL, queue = "poison", heartbeat = cu.BEAT}
  local p <close> = pool(URL, {queue = "poison", max_deliveries = 1})
  local f = p:submit(function()
    local os_ = require "tide.os"
    os_.kill(os_.getpid(), "SIGKILL")
  end)
  T.raises("WorkerDied", "delivered 2 times %(max_deliveries 1%), and every worker that took it stopped", f.result, f,
           30)
  local dead = cu.wait_entries(conn, cu.keys("poison").dead, 1, 30)
  T.eq(dead[1].fields.verdict, "undeliverable")
  T.truthy(#dead[1].fields.m > 0, "the dead letter keeps the task")
  T.eq(p:submit(function() return "the other worker serves on" end):result(30), "the other worker serves on")
end)

T.test("Redis restarted mid-map with appendonly yes: every result arrives, none twice", function()
  local r2 <close> = cu.redis{appendonly = true}
  local url = r2.url
  local w1 <close> = cu.worker{url = url, queue = "restart", heartbeat = 2 * cu.BEAT}
  local w2 <close> = cu.worker{url = url, queue = "restart", heartbeat = 2 * cu.BEAT}
  local p <close> = pool(url, {queue = "restart"})
  -- Tasks 101 and 102 wait on named pipes: each holds one worker, so tasks
  -- 103.. stay in the stream while Redis is down. Redis goes down only once
  -- both have started: a worker still connecting then (a slow start under
  -- a sanitizer) exits, and its gate would never get a reader.
  local dir = r2.dir
  local gate = {[101] = dir .. "/gate101", [102] = dir .. "/gate102"}
  pipe.fifo(gate[101]); pipe.fifo(gate[102])
  local function task(i, gates, redis_url)
    if gates[i] then
      require("tide._cluster").redis(redis_url):call("RPUSH", "restart:started", i)
      assert(io.open(gates[i])):read("a")
    end
    return i * 3
  end
  local futs = {}
  for i = 1, 300 do futs[i] = p:submit(task, i, gate, url) end
  for i = 1, 100 do T.eq(futs[i]:result(30), i * 3) end
  local c2 = r2:conn()
  for _ = 1, 2 do T.truthy(cu.blpop(c2, "restart:started", 30), "both gate tasks started") end
  r2:shutdown()  -- SHUTDOWN: the append-only file is synced
  r2:launch()
  for _, path in pairs(gate) do
    local g = assert(io.open(path, "w"))  -- opens once the task reads
    g:close()
  end
  for i = 101, 300 do T.eq(futs[i]:result(60), i * 3) end
  T.eq(p.duplicates, 0)
  T.eq(p.pending, 0)
  T.match(w1:log() .. w2:log(), "lost the connection to Redis at 127%.0%.0%.1:%d+ .*reconnecting")
end)

redis:stop()
T.done()
