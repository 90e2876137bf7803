-- tide.cluster's authentication (API.md §17, issue 13): every task entry is
-- checked (HMAC-SHA256 over the whole entry, timestamp, nonce) before a
-- single field is read. Unsigned, forged, replayed and wrong-key entries
-- are logged and dead-lettered and never run; a worker of another
-- architecture fails the task with TransferError naming both. Tasks here
-- record that they ran by RPUSH on a Redis list, so "never run" is
-- checked, not assumed; waits are BLPOP / XREAD BLOCK, never sleeps.
local T = require "harness"
local cluster = require "tide.cluster"
local cu = require "cluster_util"

local redis = cu.redis()
local URL = redis.url
local conn = redis:conn()
local OTHER_KEY = "another-key-fedcba9876543210"

local function pool(opts)
  opts.url = URL
  opts.key = opts.key or cu.KEY
  return cluster.Pool(opts)
end

-- A task that records its run on list `name` (through its own connection).
local function recorder(url, name)
  return function()
    require("tide._cluster").redis(url):call("RPUSH", name, "ran")
    return "ran"
  end
end

-- Queues a task on `queue` that nobody serves yet; returns its future and
-- its stream entry (the authentic signed bytes in field m).
local function held_task(p, queue, list)
  local f = p:submit(recorder(URL, list))
  local entries = cu.wait_entries(conn, cu.keys(queue).tasks, 1, 30)
  return f, entries[#entries]
end

-- A to-be-closed guard that cancels what `p` still waits for (a pool's
-- own <close> waits for every result, and a refused task has none).
local function cancelling(p)
  return setmetatable({}, {__close = function() p:shutdown{cancel_futures = true} end})
end

-- Waits for `n` dead letters on `queue`; returns them.
local function dead(queue, n)
  return cu.wait_entries(conn, cu.keys(queue).dead, n, 30)
end

T.test("an unsigned entry and one without the 'm' field are refused, dead-lettered and logged", function()
  local w <close> = cu.worker{url = URL, queue = "unsigned"}
  local tasks = cu.keys("unsigned").tasks
  -- The group exists once the worker is up: it answers a task.
  local p <close> = pool{queue = "unsigned"}
  T.eq(p:submit(function() return "up" end):result(30), "up")
  conn:call("XADD", tasks, "*", "m", "print('not signed')")
  conn:call("XADD", tasks, "*", "fn", "os.exit(1)")
  local d = dead("unsigned", 2)
  T.eq(d[1].fields.verdict, "unsigned"); T.eq(d[2].fields.verdict, "unsigned")
  T.eq(d[1].fields.m, "print('not signed')", "the dead letter keeps the entry's bytes")
  T.match(d[2].fields.reason, "no 'm' field")
  T.eq(d[1].fields.stream, tasks)
  T.eq(p:submit(function() return "still serving" end):result(30), "still serving")
  T.eq(#cu.entries(conn, tasks), 0, "refused entries are removed from the queue")
  T.match(w:log(), "refused task entry [%d%-]+ %(unsigned%)")
end)

T.test("a forged entry (an authentic one with a changed byte) is refused and never runs", function()
  local p = pool{queue = "forged"}
  local _ <close> = cancelling(p)
  local f, entry = held_task(p, "forged", "forged:ran")
  local m = entry.fields.m
  local at = #m // 2  -- inside the sealed fields, before the MAC
  local forged = m:sub(1, at - 1) .. string.char((m:byte(at) ~ 1)) .. m:sub(at + 1)
  conn:call("XDEL", cu.keys("forged").tasks, entry.id)
  conn:call("XADD", cu.keys("forged").tasks, "*", "m", forged)
  local w <close> = cu.worker{url = URL, queue = "forged"}
  local d = dead("forged", 1)
  T.eq(d[1].fields.verdict, "forged")
  T.eq(d[1].fields.m, forged)
  T.eq(conn:call("LLEN", "forged:ran"), 0, "the forged task never ran")
  T.falsy(f:done(), "its future is not completed by anything forged")
  T.match(w:log(), "%(forged%)")
end)

T.test("a replayed entry (an authentic copy added again) is refused; the original ran once", function()
  local p <close> = pool{queue = "replay"}
  local f, entry = held_task(p, "replay", "replay:ran")
  conn:call("XADD", cu.keys("replay").tasks, "*", "m", entry.fields.m)
  local w <close> = cu.worker{url = URL, queue = "replay"}
  T.eq(f:result(30), "ran")
  local d = dead("replay", 1)
  T.eq(d[1].fields.verdict, "replayed")
  T.match(d[1].fields.reason, "its nonce was first seen as stream entry " .. entry.id:gsub("%-", "%%-"))
  T.eq(conn:call("LLEN", "replay:ran"), 1, "the task ran once")
  T.match(w:log(), "%(replayed%)")
end)

T.test("a client with the wrong key: its tasks are refused as forged, never run", function()
  local w <close> = cu.worker{url = URL, queue = "wrongkey"}
  local p = pool{queue = "wrongkey", key = OTHER_KEY}
  local _ <close> = cancelling(p)
  local f = p:submit(recorder(URL, "wrongkey:ran"))
  local d = dead("wrongkey", 1)
  T.eq(d[1].fields.verdict, "forged")
  T.match(d[1].fields.reason, "signature does not match the shared key")
  T.eq(conn:call("LLEN", "wrongkey:ran"), 0)
  T.raises("Timeout", f.result, f, 0)
  -- The same worker serves a client with the right key.
  local good <close> = pool{queue = "wrongkey"}
  T.eq(good:submit(recorder(URL, "wrongkey:ran")):result(30), "ran")
end)

T.test("a worker with the wrong key: the client refuses nothing it did not sign", function()
  -- The worker refuses the client's tasks (it cannot check them); a
  -- result signed with another key is refused by the client too: here an
  -- entry signed by a pool with the worker's key arrives on this pool's
  -- result stream.
  local other = pool{queue = "wk2", key = OTHER_KEY}
  local _ <close> = cancelling(other)
  local of, oentry = held_task(other, "wk2", "wk2:other")
  local w <close> = cu.worker{url = URL, queue = "wk2", key = OTHER_KEY}
  T.eq(of:result(30), "ran")
  local p = pool{queue = "wk2"}
  local _p <close> = cancelling(p)
  local f = p:submit(recorder(URL, "wk2:ran"))
  local d = dead("wk2", 1)
  T.eq(d[1].fields.verdict, "forged")
  T.eq(conn:call("LLEN", "wk2:ran"), 0)
  local results = cu.keys("wk2").tasks:gsub("tasks$", "results:" .. p.id)
  conn:call("XADD", results, "*", "m", oentry.fields.m)
  local d2 = dead("wk2", 2)
  T.eq(d2[2].fields.verdict, "forged")
  T.eq(d2[2].fields.stream, results)
  T.falsy(f:done())
end)

T.test("a worker of another architecture fails the task with TransferError naming both", function()
  local w <close> = cu.worker{url = URL, queue = "arch", env = {TIDE_CLUSTER_ARCH = "sparc-be32"}}
  local p <close> = pool{queue = "arch"}
  local f = p:submit(recorder(URL, "arch:ran"))
  local e = T.raises("TransferError", "its task from Lua 5%.4 on [%w_]+%-[lb]e%d+ cannot be read by Lua 5%.4 on sparc%-be32",
                     f.result, f, 30)
  T.falsy(tostring(e):find("x86_64-le64 cannot be read by Lua 5.4 on x86_64", 1, true))
  T.eq(conn:call("LLEN", "arch:ran"), 0, "nothing was decoded or run")
  T.match(w:log(), "cannot be read by")
end)

redis:stop()
T.done()
