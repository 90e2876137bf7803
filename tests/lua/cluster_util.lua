-- Helpers for the tide.cluster specs: a real redis-server on a free
-- loopback port with its files in a temp dir, and real `tide worker`
-- processes. Both die with the spec even if it crashes (PR_SET_PDEATHSIG:
-- redis-server through a python3 exec shim, workers through their hidden
-- --supervised flag); stop() kills and removes everything explicitly.
-- Readiness is an event: the spec reads redis-server's output until it
-- says it accepts connections.
local tide = require "tide"
local subprocess = require "tide.subprocess"
local os_ = require "tide.os"
local native = require "tide._cluster"

local M = {}

M.KEY = "cluster-spec-key-0123456789abcdef"
-- Seconds between worker heartbeats: a task is reclaimed after 10 missed
-- beats, which a live but slow worker (under a sanitizer) must not miss.
M.sanitizer = (os.getenv("TIDE_SANITIZER") or "") ~= ""
M.BEAT = M.sanitizer and 0.5 or 0.1
M.tide_bin = os.getenv("TIDE_BIN") or "tide"

local function free_port()
  local out = subprocess.check_output({"python3", "-c",
    "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()"})
  return assert(tonumber(out), "a free port")
end

local function temp_dir()
  return (subprocess.check_output({"mktemp", "-d", "/tmp/tide-cluster-spec.XXXXXX"}):gsub("%s+$", ""))
end

-- Execs argv[1] with PR_SET_PDEATHSIG = SIGKILL: it dies with this process.
local PDEATHSIG_SHIM = "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGKILL); " ..
                       "os.execvp(sys.argv[1], sys.argv[1:])"

local Redis = {}
Redis.__index = Redis

-- Starts redis-server (again, on the same port and dir when restarting).
function Redis:launch()
  local args = {"python3", "-c", PDEATHSIG_SHIM, "redis-server", "--port", tostring(self.port),
                "--bind", "127.0.0.1", "--dir", self.dir, "--save", "", "--logfile", "",
                "--appendonly", self.appendonly and "yes" or "no", "--protected-mode", "yes"}
  for _, a in ipairs(self.extra) do args[#args + 1] = a end
  local p = subprocess.Popen(args, {stdout = "pipe", stderr = "stdout"})
  local seen = {}
  for line in p.stdout:lines() do
    seen[#seen + 1] = line
    if line:find("Ready to accept connections", 1, true) then
      p.stdout:close()  -- redis ignores SIGPIPE: its later log lines are dropped
      self.proc = p
      return self
    end
  end
  p:wait()
  error("redis-server did not start:\n" .. table.concat(seen, "\n"))
end

function Redis:conn()
  return native.redis(self.url)
end

-- A graceful stop (SHUTDOWN saves the append-only file), waited for.
function Redis:shutdown()
  local c = self:conn()
  pcall(c.call, c, "SHUTDOWN")
  self.proc:wait(30)
  self.proc = nil
end

function Redis:stop()
  if self.proc then
    pcall(self.proc.kill, self.proc)
    pcall(self.proc.wait, self.proc, 30)
    self.proc = nil
  end
  if self.dir then os.execute("rm -rf '" .. self.dir .. "'") end
  self.dir = nil
end

Redis.__close = Redis.stop

-- opts: appendonly (bool), extra (more redis-server arguments).
function M.redis(opts)
  opts = opts or {}
  local r = setmetatable({dir = temp_dir(), appendonly = opts.appendonly, extra = opts.extra or {}}, Redis)
  for _ = 1, 5 do  -- the port may be taken between free_port() and the bind
    r.port = free_port()
    r.url = "redis://127.0.0.1:" .. r.port
    if pcall(r.launch, r) then return r end
  end
  return r:launch()  -- once more, reporting the error
end

local Worker = {}
Worker.__index = Worker

function Worker:kill(sig)
  os_.kill(self.proc.pid, sig or "SIGKILL")
end

function Worker:stop()
  if self.proc then
    pcall(self.proc.kill, self.proc)
    pcall(self.proc.wait, self.proc, 30)
    self.proc = nil
  end
  if self.logfile then os.remove(self.logfile) end
  self.logfile = nil
end

function Worker:log()
  local f = self.logfile and io.open(self.logfile)
  local s = f and f:read("a") or ""
  if f then f:close() end
  return s
end

Worker.__close = Worker.stop

-- Starts `tide worker`. opts: url (required), queue, concurrency (1),
-- heartbeat (2 * M.BEAT), key (M.KEY; false: none), processes, env (extra vars),
-- args (more arguments).
function M.worker(opts)
  local args = {M.tide_bin, "worker", "--redis", opts.url, "--queue", opts.queue or "default",
                "--concurrency", tostring(opts.concurrency or 1), "--heartbeat", tostring(opts.heartbeat or 2 * M.BEAT),
                "--supervised", tostring(os_.getpid())}
  if opts.processes then args[#args + 1] = "--processes" end
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  local env = {TIDE_CLUSTER_KEY = opts.key == nil and M.KEY or opts.key or nil}
  for k, v in pairs(opts.env or {}) do env[k] = v end
  local logfile = os.tmpname()
  local log = assert(io.open(logfile, "w"))
  local p = subprocess.Popen(args, {env_add = env, stdout = "null", stderr = log})
  log:close()
  return setmetatable({proc = p, logfile = logfile}, Worker)
end

-- Waits (blocking in Redis, BLPOP) for an item on list `key`; nil after `seconds`.
function M.blpop(conn, key, seconds)
  local r = conn:call_block(seconds, "BLPOP", key, seconds)
  return r and r[2]
end

-- Entries of a stream as {id = , fields = {name = value}}.
function M.entries(conn, stream)
  local out = {}
  for _, e in ipairs(conn:call("XRANGE", stream, "-", "+") or {}) do
    local fields = {}
    for i = 1, #e[2], 2 do fields[e[2][i]] = e[2][i + 1] end
    out[#out + 1] = {id = e[1], fields = fields}
  end
  return out
end

-- Waits (XREAD BLOCK) until stream `key` holds at least `n` entries; returns them.
function M.wait_entries(conn, key, n, seconds)
  local deadline = tide.monotonic() + (seconds or 30)
  local entries = M.entries(conn, key)
  while #entries < n do
    local left = deadline - tide.monotonic()
    if left <= 0 then error(("stream %s has %d entries, not %d"):format(key, #entries, n), 2) end
    local last = entries[#entries] and entries[#entries].id or "0-0"
    conn:call_block(left, "XREAD", "BLOCK", math.ceil(left * 1000), "STREAMS", key, last)
    entries = M.entries(conn, key)
  end
  return entries
end

function M.keys(queue)
  local p = "tide:{" .. (queue or "default") .. "}:"
  return {tasks = p .. "tasks", dead = p .. "dead", workers = p .. "workers"}
end

return M
