-- The pool interface every tide pool shares (API.md §6: ThreadPool and
-- ProcessPool, and tide.cluster's Pool): map, imap, imap_unordered, starmap,
-- apply, apply_async and the progress bar, all built on a pool's native
-- submit(fn, ...) -> Future, its `workers` and `name` fields, and futures.
-- install(methods) adds them to a pool class's methods table.
--
-- map/starmap/imap send work in chunks: one task applies fn to a slice of
-- the input (run_chunk below, decoded once per worker). Results come back
-- in input order; an item that raises makes the call raise RemoteError
-- naming the item's index (field `index`), with the item's own error as
-- `cause` and its traceback.
--
-- imap and imap_unordered read their input lazily, keeping at most
-- 2 × workers chunks in flight, so an endless iterator works. They yield
-- `value, index` (index = the item's position in the input); with
-- {indexed=true} they yield `index, value` instead, which keeps going past
-- nil results (a nil first value ends a generic for).
local tide = require "tide"
local future = require "tide.future"
local native = require "tide._pool"

local methods = {}

-- How many workers to plan chunks for: a cluster pool may know of none yet.
local function width(pool)
  return math.max(pool.workers or 1, 1)
end

local function arg_error(n, fname, msg)
  error(tide.error("ArgumentError", ("bad argument #%d to '%s' (%s)"):format(n, fname, msg)), 3)
end

local function check_fn(fn, fname)
  if type(fn) ~= "function" then arg_error(1, fname, "function expected, got " .. type(fn)) end
end

-- Options tables: a misspelled key is an ArgumentError (tide._check_options).
local function check_opts(opts, n, fname, accepted)
  tide._check_options(opts, n, fname, accepted)
  return opts or {}
end
local MAP_OPTS, IMAP_OPTS = {"chunksize", "timeout", "progress"}, {"chunksize", "indexed"}
local APPLY_ASYNC_OPTS = {"callback", "error_callback"}

-- A method called with `.` or on something that is not a pool raises
-- ArgumentError, as the native methods do.
local function get_submit(p) return p.submit end
local function check_self(self, fname)
  local t = type(self)
  local ok, submit = false, nil
  if t == "userdata" or t == "table" then ok, submit = pcall(get_submit, self) end
  if ok and type(submit) == "function" then return end
  local mt = t == "userdata" and getmetatable(self)
  local name = type(mt) == "table" and rawget(mt, "__name") or t
  error(tide.error("ArgumentError", ("calling '%s' on bad self (pool expected, got %s)"):format(fname, tostring(name))), 3)
end

local function check_chunksize(c, fname)
  if c ~= nil and (math.type(c) ~= "integer" or c < 1) then
    arg_error(3, fname, "chunksize must be a positive integer")
  end
  return c
end

-- Runs in a worker: fn over one slice of the input. Its only upvalue is
-- the global table, so each worker decodes it once.
local function run_chunk(fn, items, first, star, n)
  local out, at, tb = require("tide._pool")._new_array(n), 0, nil
  local ok, err = xpcall(function()
    if star then
      for i = 1, n do
        at = i
        local a = items[i]
        out[i] = fn(table.unpack(a, 1, a.n or #a))
      end
    else
      for i = 1, n do
        at = i
        out[i] = fn(items[i])
      end
    end
  end, function(e)
    tb = debug.traceback(nil, 2)
    return e
  end)
  if not ok then
    local t = type(err)
    -- An error value that cannot travel back still says what it was.
    if t == "thread" or t == "userdata" or t == "function" then err = tostring(err) end
    error({index = first + at - 1, error = err, traceback = tb}, 0)
  end
  return out, n
end

-- The error a failed chunk makes map/imap raise.
local function item_error(pool, e)
  local c = type(e) == "table" and e.cause
  if not (tide.is_error(e, "RemoteError") and type(c) == "table" and math.type(c.index) == "integer") then
    return e
  end
  local worker = e.worker or pool.name
  local what = type(c.error) == "string" and c.error or tostring(c.error)
  local err = tide.error("RemoteError", ("item %d failed in worker '%s': %s"):format(c.index, worker, what))
  err.cause = c.error
  err.traceback = c.traceback or ""
  err.index = c.index
  err.worker = worker
  return err
end

local function cancel_all(futs, from)
  for i = from or 1, #futs do futs[i]:cancel() end
end

-- ---- progress bar -----------------------------------------------------------

local function new_bar(total, enabled)
  if not enabled or not native.stderr_isatty() then return nil end
  local bar = {total = total, done = 0, start = tide.monotonic(), drawn = -1}
  function bar:draw(final)
    local now = tide.monotonic()
    if not final and now - self.drawn < 0.1 then return end
    self.drawn = now
    local elapsed = math.max(now - self.start, 1e-9)
    local rate = self.done / elapsed
    local frac = self.total > 0 and self.done / self.total or 1
    local width = 30
    local fill = math.floor(frac * width + 0.5)
    local eta = rate > 0 and (self.total - self.done) / rate or 0
    io.stderr:write(("\r[%s%s] %d/%d %.1f/s ETA %d:%02d "):format(("#"):rep(fill), ("."):rep(width - fill),
      self.done, self.total, rate, eta // 60, math.floor(eta % 60)))
    if final then io.stderr:write("\n") end
    io.stderr:flush()
  end
  function bar:add(n)
    self.done = self.done + n
    self:draw(false)
  end
  bar:draw(false)
  return bar
end

-- ---- map / starmap ------------------------------------------------------------

local function auto_chunksize(n, workers)
  local c, extra = n // (workers * 4), n % (workers * 4)
  if extra > 0 then c = c + 1 end
  return math.max(c, 1)
end

local function remaining(deadline)
  if not deadline then return nil end
  return math.max(0, deadline - tide.monotonic())
end

local function map_impl(pool, fname, fn, list, opts, star)
  check_fn(fn, fname)
  if type(list) ~= "table" then arg_error(2, fname, "table expected, got " .. type(list)) end
  opts = check_opts(opts, 3, fname, MAP_OPTS)
  local timeout = opts.timeout
  if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout or timeout < 0) then
    arg_error(3, fname, "timeout must be a non-negative number")
  end
  local n = #list
  local size = check_chunksize(opts.chunksize, fname) or auto_chunksize(n, width(pool))
  local deadline = timeout and tide.monotonic() + timeout
  local futs, firsts = {}, {}
  local ok, err = pcall(function()
    for first = 1, n, size do
      local last = math.min(first + size - 1, n)
      local items = table.move(list, first, last, 1, native._new_array(last - first + 1))
      futs[#futs + 1] = pool:submit(run_chunk, fn, items, first, star, last - first + 1)
      firsts[#futs] = first
    end
  end)
  if not ok then
    cancel_all(futs)
    error(err, 0)
  end
  local bar = new_bar(n, opts.progress)
  if bar then
    local okp, perr = pcall(function()
      for f in future.as_completed(futs, remaining(deadline)) do
        local fok, _, cn = pcall(f.result, f)
        if not fok then break end
        bar:add(cn)
      end
    end)
    bar:draw(true)
    if not okp then
      cancel_all(futs)
      error(perr, 0)
    end
  end
  local results = native._new_array(n)
  for i, f in ipairs(futs) do
    local rok, chunk, cn = pcall(f.result, f, remaining(deadline))
    if not rok then
      cancel_all(futs, i + 1)
      if tide.is_error(chunk, "Timeout") then
        cancel_all(futs, i)
        error(tide.error("Timeout", ("%s: results not ready within %g seconds"):format(fname, timeout)), 3)
      end
      error(item_error(pool, chunk), 3)
    end
    table.move(chunk, 1, cn, firsts[i], results)
  end
  return results
end

function methods:map(fn, list, opts)
  check_self(self, "map")
  return map_impl(self, "map", fn, list, opts, false)
end

function methods:starmap(fn, list, opts)
  check_self(self, "starmap")
  if type(list) == "table" then
    for i = 1, #list do
      if type(list[i]) ~= "table" then arg_error(2, "starmap", ("item %d is not an argument array"):format(i)) end
    end
  end
  return map_impl(self, "starmap", fn, list, opts, true)
end

-- ---- imap / imap_unordered ------------------------------------------------------

-- A source yielding (true, item) until the input ends: an array or a
-- stateless-call iterator function (nil ends it).
local function make_source(src, fname)
  if type(src) == "table" then
    local i, n = 0, #src
    return function()
      if i >= n then return false end
      i = i + 1
      return true, src[i]
    end
  elseif type(src) == "function" then
    local ended = false
    return function()
      if ended then return false end
      local v = src()
      if v == nil then ended = true return false end
      return true, v
    end
  end
  arg_error(2, fname, "table or iterator function expected, got " .. type(src))
end

local function imap_impl(pool, fname, fn, src, opts, ordered)
  check_fn(fn, fname)
  local read = make_source(src, fname)
  opts = check_opts(opts, 3, fname, IMAP_OPTS)
  local size = check_chunksize(opts.chunksize, fname) or 1
  local ahead = 2 * width(pool)
  local indexed = opts.indexed
  local inflight, firsts = {}, {}  -- futures in submission order, first index of each
  local taken, exhausted = 0, false
  local buf, bn, bi, bfirst = nil, 0, 0, 0

  local function refill()
    while not exhausted and #inflight < ahead do
      local items, cnt = {}, 0
      for k = 1, size do
        local has, v = read()
        if not has then
          exhausted = true
          break
        end
        items[k], cnt = v, k
      end
      if cnt == 0 then break end
      local f = pool:submit(run_chunk, fn, items, taken + 1, false, cnt)
      inflight[#inflight + 1] = f
      firsts[f] = taken + 1
      taken = taken + cnt
    end
  end

  local function fail(e)
    cancel_all(inflight)
    inflight = {}
    exhausted = true
    error(item_error(pool, e), 3)
  end

  local function next_chunk()
    refill()
    if #inflight == 0 then return false end
    local pos = 1
    if not ordered then
      local first = future.as_completed(inflight)()  -- the earliest finished
      for k, f in ipairs(inflight) do
        if rawequal(f, first) then pos = k break end
      end
    end
    local f = table.remove(inflight, pos)
    local ok, chunk, cn = pcall(f.result, f)
    if not ok then fail(chunk) end
    buf, bn, bi, bfirst = chunk, cn, 0, firsts[f]
    firsts[f] = nil
    refill()
    return true
  end

  -- Leaving a generic for early (break, error) closes this: the chunks
  -- still in flight are cancelled.
  local closer = setmetatable({}, {__close = function()
    cancel_all(inflight)
    inflight, exhausted = {}, true
  end})
  return function()
    while bi >= bn do
      if not next_chunk() then return nil end
    end
    bi = bi + 1
    local index = bfirst + bi - 1
    if indexed then return index, buf[bi] end
    return buf[bi], index
  end, nil, nil, closer
end

function methods:imap(fn, src, opts)
  check_self(self, "imap")
  return imap_impl(self, "imap", fn, src, opts, true)
end
function methods:imap_unordered(fn, src, opts)
  check_self(self, "imap_unordered")
  return imap_impl(self, "imap_unordered", fn, src, opts, false)
end

-- ---- apply / apply_async ----------------------------------------------------------

function methods:apply(fn, ...)
  check_self(self, "apply")
  check_fn(fn, "apply")
  return self:submit(fn, ...):result()
end

-- apply_async(fn, args, {callback=?, error_callback=?}) -> Future. The
-- callbacks run in this state, at its next tide wait or future.poll().
function methods:apply_async(fn, args, opts)
  check_self(self, "apply_async")
  check_fn(fn, "apply_async")
  if args ~= nil and type(args) ~= "table" then arg_error(2, "apply_async", "argument array expected, got " .. type(args)) end
  opts = check_opts(opts, 3, "apply_async", APPLY_ASYNC_OPTS)
  local cb, ecb = opts.callback, opts.error_callback
  if cb ~= nil and type(cb) ~= "function" then arg_error(3, "apply_async", "callback must be a function") end
  if ecb ~= nil and type(ecb) ~= "function" then arg_error(3, "apply_async", "error_callback must be a function") end
  args = args or {}
  local f = self:submit(fn, table.unpack(args, 1, args.n or #args))
  if cb or ecb then
    f:add_done_callback(function(done)
      local res = table.pack(pcall(done.result, done))
      if res[1] then
        if cb then cb(table.unpack(res, 2, res.n)) end
      elseif ecb then
        ecb(res[2])
      end
    end)
  end
  return f
end

return {
  -- Adds the shared methods to a pool class's methods table (keeping any
  -- it defines itself).
  install = function(target)
    if type(target) ~= "table" then arg_error(1, "install", "methods table expected, got " .. type(target)) end
    for k, v in pairs(methods) do
      if target[k] == nil then target[k] = v end
    end
  end,
}
