-- W12: tide.cluster on a real Redis, beside Python's RQ and Celery on the
-- same Redis (w12_cluster.py, Debian's python3-rq and python3-celery) and a
-- bare hiredis XADD/XREADGROUP/XACK loop in C (bench_cluster_ref built by
-- CMake: the engine's limit), all in one run. Two local workers each:
-- two `tide worker --concurrency 1`, two RQ SimpleWorkers, two Celery solo
-- workers, two C consumer processes.
--   tiny tasks: N submits of an identity function, time until every
--   result is back (tasks/s);
--   map: 100,000 items squared (tide: pool:map, chunks as it chooses;
--   RQ/Celery: chunks of 1000), µs per item.
-- The redis-server runs on a free loopback port with its files in a temp
-- dir, removed at the end.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local cluster = require "tide.cluster"
local future = require "tide.future"
local subprocess = require "tide.subprocess"

local N_TIDE, N_C, N_RQ, N_CELERY, MAP_N = 20000, 100000, 2000, 2000, 100000
local KEY = "w12-benchmark-key-0123456789abcdef"
local build = os.getenv("TIDE_BUILD_DIR") or (arg[-1] or ""):match("^(.*)/") or "build"
local tide_cmd = arg[-1] or "tide"

if os.execute("command -v redis-server >/dev/null") ~= true then
  bench.line("W12 cluster: n/a (no redis-server; scripts/setup.sh installs it)")
  return
end

local function sh(cmd) return (subprocess.check_output({"sh", "-c", cmd}):gsub("%s+$", "")) end
local port = sh([[python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]])
local dir = sh("mktemp -d /tmp/tide-w12.XXXXXX")
local redis = subprocess.Popen({"redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "",
                                "--appendonly", "no", "--logfile", ""}, {stdout = "pipe"})
for line in redis.stdout:lines() do
  if line:find("Ready to accept connections", 1, true) then break end
end
redis.stdout:close()
local URL = "redis://127.0.0.1:" .. port .. "/0"

local ok, err = pcall(function()
  local workers = {}
  for w = 1, 2 do
    workers[w] = subprocess.Popen({tide_cmd, "worker", "--redis", URL, "--queue", "w12", "--concurrency", "1"},
                                  {env_add = {TIDE_CLUSTER_KEY = KEY, TIDE_LOG = "warn"}})
  end
  local pool <close> = cluster.Pool{url = URL, queue = "w12", key = KEY}
  local ident = function(x) return x end
  local function tiny(n)
    local futs = {}
    for i = 1, n do futs[i] = pool:submit(ident, i) end
    local all = future.gather(futs)
    bench.check(all[n] == n, "W12: wrong result")
  end
  local items = {}
  for i = 1, MAP_N do items[i] = i end
  local function map()
    local r = pool:map(function(x) return x * x end, items)
    bench.check(#r == MAP_N and r[MAP_N] == MAP_N * MAP_N, "W12: wrong map")
  end
  tiny(200)  -- warm-up: both workers up, their states warm
  while pool.workers < 2 do tiny(10) end
  local tiny_s = bench.best(3, tiny, N_TIDE)
  map()
  local map_s = bench.best(3, map)
  pool:shutdown()
  for _, w in ipairs(workers) do w:terminate() end
  for _, w in ipairs(workers) do w:wait(30) end

  local c = {}
  local out = sh(build .. "/bench_cluster_ref 127.0.0.1 " .. port .. " " .. N_C .. " 2 2>&1 || true")
  for k, v in out:gmatch("([%w_]+)=(%S+)") do c[k] = tonumber(v) end

  local py = {}
  local python = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"  -- Debian's, with rq and celery
  local pout = sh(python .. " " .. bench.dir .. "/w12_cluster.py " .. URL .. " " .. N_RQ .. " " .. N_CELERY .. " 2>&1 || true")
  for k, v in pout:gmatch("([%w_]+)=(%S+)") do py[k] = tonumber(v) end

  local tide_tps, tide_map = N_TIDE / tiny_s, map_s / MAP_N * 1e6
  local function fmt(v, f) return v and string.format(f, v) or "n/a" end
  local function ratio(a, b) return (a and b) and string.format("x%.2f", a / b) or "n/a" end
  bench.line("W12 cluster tiny tasks, 2 local workers (best of 3): tide %.0f tasks/s (%.1f us/task)   RQ %s   Celery %s   C hiredis loop %s tasks/s",
    tide_tps, 1e6 / tide_tps, fmt(py.rq_tasks_per_s, "%.0f"), fmt(py.celery_tasks_per_s, "%.0f"),
    fmt(c.c_tasks_per_s, "%.0f"))
  bench.line("W12   ratios: tide/RQ %s   tide/Celery %s   tide/C %s (C is the engine's limit: no signing, codec or Lua)",
    ratio(tide_tps, py.rq_tasks_per_s), ratio(tide_tps, py.celery_tasks_per_s), ratio(tide_tps, c.c_tasks_per_s))
  bench.line("W12 cluster map of %d items, 2 local workers: tide %.3f us/item   RQ %s   Celery %s (chunks of 1000)   RQ/tide %s   Celery/tide %s",
    MAP_N, tide_map, fmt(py.rq_map_us, "%.3f"), fmt(py.celery_map_us, "%.3f"), ratio(py.rq_map_us, tide_map),
    ratio(py.celery_map_us, tide_map))
  if not py.rq_tasks_per_s or not py.celery_tasks_per_s then io.stderr:write(pout, "\n") end
end)
redis:terminate()
redis:wait(30)
os.execute("rm -rf '" .. dir .. "'")
if not ok then error(err, 0) end
