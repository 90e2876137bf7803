-- The concurrent.futures seed's as_completed example across machines:
-- ten CPU-bound items submitted to a tide.cluster pool, results printed as
-- they complete. The workers are two `tide worker` processes started here
-- (on other machines they would be started the same way, with the same
-- key and URL). Needs a Redis server.
--   tide scripts/examples/cluster_as_completed.lua [redis URL] [iterations per item]
local tide = require "tide"
local cluster = require "tide.cluster"
local future = require "tide.future"
local subprocess = require "tide.subprocess"

local URL = arg and arg[1] or "redis://127.0.0.1:6379/0"
local ITER = math.tointeger(tonumber(arg and arg[2])) or 10000000
-- A shared key for this run (tasks are code: every entry is signed).
local KEY = (os.getenv("TIDE_CLUSTER_KEY") or "example-key-" .. tostring(tide.monotonic()):gsub("%D", ""))
  .. "-0123456789abcdef"
local QUEUE = "as_completed_example"
local number_list = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

local function evaluate_item(x, iter)
  local i = 0
  for _ = 1, iter do i = i + 1 end  -- only to spend time
  return i * x
end

local tide_cmd = arg[-1] or "tide"
local workers = {}
for w = 1, 2 do
  workers[w] = subprocess.Popen({tide_cmd, "worker", "--redis", URL, "--queue", QUEUE, "--concurrency", "1"},
                                {env_add = {TIDE_CLUSTER_KEY = KEY, TIDE_LOG = "warn"}})
end

local start = tide.monotonic()
do
  local executor <close> = cluster.Pool{url = URL, queue = QUEUE, key = KEY}
  local futures = {}
  for k, item in ipairs(number_list) do futures[k] = executor:submit(evaluate_item, item, ITER) end
  for f in future.as_completed(futures) do print(f:result()) end
end
print(string.format("Cluster pool execution in %.3f seconds", tide.monotonic() - start))

-- SIGTERM: a worker finishes its task, leaves the group, exits 0. One that
-- is still starting (on a slow machine the other may have done all ten
-- items first) has no handler yet and ends by the signal, having taken
-- nothing.
for _, w in ipairs(workers) do
  w:terminate()
  local code = w:wait(30)
  assert(code == 0 or code == -15, "a worker did not stop cleanly: " .. tostring(code))
end
