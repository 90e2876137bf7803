-- tide.async.subprocess, also async.subprocess (API.md §12): tide.subprocess's run, check_output and
-- Popen whose waits await instead of blocking the loop. A Popen here wraps
-- a tide.subprocess Popen (the same options, spawn and child tracking);
-- its streams read and write the pipe without waiting and let the loop
-- wait for readiness (the descriptor in the loop's poll set), and wait()
-- awaits the child's pidfd. Everything that waits needs a task; starting a
-- child, poll, signals and close do not.
local tide = require "tide"
local sp = require "tide.subprocess"
local native = require "tide._async"
local C = require "tide._asyncloop"
local W = require "tide._asyncwait"
local G = require "tide._asyncgather"

local monotonic = tide.monotonic
local raise, arg_error = C.raise, C.arg_error
local read_some, write_some = native.stream_read_some, native.stream_write_some
local POLLIN, POLLOUT = native.POLLIN, native.POLLOUT
local concat = table.concat

local CHUNK <const> = 64 * 1024

local M = {PIPE = sp.PIPE, DEVNULL = sp.DEVNULL, STDOUT = sp.STDOUT, INHERIT = sp.INHERIT}

local function remaining(deadline)
  if not deadline then return nil end
  local left = deadline - monotonic()
  return left > 0 and left or 0
end

local function command_text(args)
  if type(args) == "table" then return concat(args, " ") end
  return tostring(args)
end

-- ------------------------------------------------------------------ streams

-- A pipe to the child: Lua's file idiom as tide.subprocess's Stream has it,
-- awaited. Reads buffer here (in Lua), so read the pipe through this object
-- only.
local Stream = {__name = "tide.async.subprocess.Stream"}
local stream_methods = {}

local function check_stream(s, fname)
  if getmetatable(s) ~= Stream then arg_error(1, fname, "an async.subprocess Stream expected, got " .. type(s)) end
  return s
end

Stream.__index = function(s, k)
  if k == "closed" then return check_stream(s, "__index").raw.closed end
  return stream_methods[k]
end

local function new_stream(raw)
  if raw == nil then return nil end
  return setmetatable({raw = raw, buf = "", pos = 1, eof = false}, Stream)
end

-- The next chunk from the pipe, awaiting it; nil at the end.
local function next_chunk(s, fname)
  if s.eof then return nil end
  local t, loop
  while true do
    local v = read_some(s.raw, CHUNK)
    if v == nil then
      s.eof = true
      return nil
    end
    if v then return v end
    if not t then loop, t = C.current(fname) end
    W.wait_fd(loop, t, s.raw:fileno(), POLLIN, nil)
  end
end

-- What is buffered and unread, taken out of the buffer.
local function take(s)
  local rest = s.pos == 1 and s.buf or s.buf:sub(s.pos)
  s.buf, s.pos = "", 1
  return rest
end

local function read_all(s, fname)
  local parts = {take(s)}
  while true do
    local c = next_chunk(s, fname)
    if not c then break end
    parts[#parts + 1] = c
  end
  return concat(parts)
end

local function read_n(s, n, fname)
  local have = #s.buf - s.pos + 1
  if have < n or (n == 0 and have == 0) then
    local parts = {take(s)}
    repeat
      local c = next_chunk(s, fname)
      if not c then break end
      parts[#parts + 1] = c
      have = have + #c
    until have >= n
    s.buf = concat(parts)
  end
  if have == 0 and s.eof then return nil end
  local v = s.buf:sub(s.pos, s.pos + n - 1)
  s.pos = s.pos + #v
  return v
end

local function read_line(s, keep, fname)
  local buf, pos = s.buf, s.pos
  local nl = buf:find("\n", pos, true)
  if nl then
    s.pos = nl + 1
    return buf:sub(pos, keep and nl or nl - 1)
  end
  -- Chunks gathered in a list: a long line costs one copy, not one per chunk.
  local parts = {take(s)}
  while true do
    local c = next_chunk(s, fname)
    if not c then
      local rest = concat(parts)
      if rest == "" then return nil end
      return rest
    end
    nl = c:find("\n", 1, true)
    if nl then
      parts[#parts + 1] = c:sub(1, keep and nl or nl - 1)
      s.buf, s.pos = c, nl + 1
      return concat(parts)
    end
    parts[#parts + 1] = c
  end
end

-- s:read([fmt]): n bytes (fewer at the end; nil at the end), "a" (the
-- default) the rest, "l"/"L" a line without/with its newline.
function stream_methods.read(s, fmt)
  check_stream(s, "read")
  if fmt == nil then return read_all(s, "read") end
  if math.type(fmt) == "integer" or (type(fmt) == "number" and fmt == math.floor(fmt)) then
    if fmt < 0 then arg_error(2, "read", "size must not be negative") end
    return read_n(s, math.tointeger(fmt), "read")
  end
  local f = type(fmt) == "string" and fmt:gsub("^%*", ""):sub(1, 1) or ""
  if f == "a" then return read_all(s, "read") end
  if f == "l" or f == "L" then return read_line(s, f == "L", "read") end
  arg_error(2, "read", "a size, \"a\", \"l\" or \"L\" expected")
end

-- for line in s:lines([fmt]) do: a line at a time ("l" drops the newline).
function stream_methods.lines(s, fmt)
  check_stream(s, "lines")
  if fmt ~= nil and fmt ~= "l" and fmt ~= "L" and fmt ~= "*l" and fmt ~= "*L" then
    arg_error(2, "lines", "\"l\" or \"L\" expected")
  end
  local keep = fmt == "L" or fmt == "*L"
  return function() return read_line(s, keep, "lines") end
end

-- s:write(...): writes every string or number in order, awaiting room in
-- the pipe; returns s. OSError (EPIPE) once the child closed its end.
function stream_methods.write(s, ...)
  check_stream(s, "write")
  local n = select("#", ...)
  local data
  if n == 1 and type((...)) == "string" then
    data = ...
  else
    local parts = {}
    for i = 1, n do
      local v = select(i, ...)
      if type(v) ~= "string" and type(v) ~= "number" then
        arg_error(i + 1, "write", "string or number expected, got " .. type(v))
      end
      parts[i] = tostring(v)
    end
    data = concat(parts)
  end
  local from, len = 1, #data
  local loop, t
  while from <= len do
    local wrote = write_some(s.raw, data, from)
    from = from + wrote
    if wrote == 0 then
      if not t then loop, t = C.current("write") end
      W.wait_fd(loop, t, s.raw:fileno(), POLLOUT, nil)
    end
  end
  return s
end

function stream_methods.flush(s) return check_stream(s, "flush") end

function stream_methods.close(s)
  check_stream(s, "close")
  s.raw:close()
  s.buf, s.pos = "", 1
end

function stream_methods.fileno(s) return check_stream(s, "fileno").raw:fileno() end

Stream.__tostring = function(s) return "async " .. tostring(check_stream(s, "__tostring").raw) end
Stream.__close = function(s) check_stream(s, "__close").raw:close() end

-- -------------------------------------------------------------------- Popen

local Popen = {__name = "tide.async.subprocess.Popen"}
local popen_methods = {}

local function check_popen(p, fname)
  if getmetatable(p) ~= Popen then arg_error(1, fname, "an async.subprocess Popen expected, got " .. type(p)) end
  return p
end

Popen.__index = function(p, k)
  local m = popen_methods[k]
  if m ~= nil then return m end
  if k == "pid" or k == "returncode" or k == "args" then return check_popen(p, "__index").proc[k] end
  return nil
end

local function popen_options(opts, fname)
  if opts == nil then return nil end
  if type(opts) ~= "table" then arg_error(2, fname, "options table expected, got " .. type(opts)) end
  local copy = {}
  for k, v in pairs(opts) do
    if getmetatable(v) == Stream then v = v.raw end  -- a pipeline: the next child takes this pipe
    copy[k] = v
  end
  return copy
end

local function new_popen(args, opts, fname)
  local proc = sp.Popen(args, popen_options(opts, fname))
  return setmetatable({proc = proc, stdin = new_stream(proc.stdin), stdout = new_stream(proc.stdout),
                       stderr = new_stream(proc.stderr), out = {}, err = {}}, Popen)
end

-- Popen(args, [opts]): starts the child (tide.subprocess.Popen's
-- arguments and options); p.stdin/stdout/stderr are awaited Streams.
function M.Popen(args, opts) return new_popen(args, opts, "async.subprocess.Popen") end

local function timeout_error(p, seconds, with_output)
  local e = tide.error("Timeout", ("command '%s' timed out after %s seconds"):format(command_text(p.proc.args), seconds))
  e.cmd, e.timeout = p.proc.args, seconds
  if with_output then
    if p.stdout then e.stdout = concat(p.out) end
    if p.stderr then e.stderr = concat(p.err) end
  end
  return e
end

-- p:wait([timeout]): awaits the child's end; its return code (-N after
-- signal N). Timeout (with cmd and timeout) leaves the child running.
function popen_methods.wait(p, timeout)
  check_popen(p, "wait")
  C.check_timeout(timeout, 2, "wait")
  local proc = p.proc
  local rc = proc:poll()
  if rc then return rc end
  local loop, t = C.current("wait")
  local deadline = timeout and monotonic() + timeout
  while true do
    local fd = native.popen_exit_fd(proc)
    if fd < 0 then return proc:wait() end  -- reaped behind our back: returns at once
    local left = remaining(deadline)
    local ready = left ~= 0 and W.wait_fd(loop, t, fd, POLLIN, left)
    rc = proc:poll()
    if rc then return rc end
    if not ready then error(timeout_error(p, timeout, false), 0) end
  end
end

function popen_methods.poll(p) return check_popen(p, "poll").proc:poll() end
function popen_methods.send_signal(p, sig) return check_popen(p, "send_signal").proc:send_signal(sig) end
function popen_methods.terminate(p) return check_popen(p, "terminate").proc:terminate() end
function popen_methods.kill(p) return check_popen(p, "kill").proc:kill() end

-- Reads a stream to its end into `into` (kept on the Popen, so output read
-- before a Timeout is still returned by a later communicate).
local function drain(s, into)
  while true do
    local c = next_chunk(s, "communicate")
    if not c then return end
    into[#into + 1] = c
  end
end

local function feed(p)
  local input = p.input
  if input then
    p.input = nil
    local ok, err = pcall(stream_methods.write, p.stdin, input)
    -- A child that exits without reading all its input is not an error
    -- (Python's communicate ignores EPIPE too).
    if not ok and not (tide.is_error(err, "OSError") and err.errno == 32) then error(err, 0) end
  end
  p.stdin:close()
end

-- p:communicate([input], [timeout]): writes input to stdin (then closes
-- it) while reading stdout and stderr to their end, then awaits the
-- child; returns stdout, stderr (nil for a stream that is not a pipe).
-- Timeout (carrying the output so far) leaves the child running; a later
-- communicate() goes on and returns all of it.
function popen_methods.communicate(p, input, timeout)
  check_popen(p, "communicate")
  if input ~= nil and type(input) ~= "string" then arg_error(2, "communicate", "string or nil expected, got " .. type(input)) end
  C.check_timeout(timeout, 3, "communicate")
  if input ~= nil and input ~= "" then
    if not p.stdin or p.stdin.raw.closed then raise("InvalidState", "communicate: input given, but stdin is not a pipe") end
    p.input = input
  end
  C.current("communicate")
  local work = {}
  if p.stdin and not p.stdin.raw.closed then work[#work + 1] = function() feed(p) end end
  if p.stdout and not p.stdout.raw.closed then work[#work + 1] = function() drain(p.stdout, p.out) end end
  if p.stderr and not p.stderr.raw.closed then work[#work + 1] = function() drain(p.stderr, p.err) end end
  local deadline = timeout and monotonic() + timeout
  if #work > 0 then
    local ok, err = pcall(G.wait_for, function() G.gather(work) end, timeout)
    if not ok then
      if tide.is_error(err, "Timeout") then error(timeout_error(p, timeout, true), 0) end
      error(err, 0)
    end
  end
  local ok, err = pcall(popen_methods.wait, p, remaining(deadline))
  if not ok then
    if tide.is_error(err, "Timeout") then error(timeout_error(p, timeout, true), 0) end
    error(err, 0)
  end
  local out = p.stdout and concat(p.out) or nil
  local errout = p.stderr and concat(p.err) or nil
  p.out, p.err = {}, {}
  if p.stdout then p.stdout.raw:close() end
  if p.stderr then p.stderr.raw:close() end
  return out, errout
end

-- local p <close> = async.subprocess.Popen(...): leaving the scope normally
-- closes the streams and awaits the child (blocks outside a task); leaving
-- it by an error kills and reaps it.
Popen.__close = function(p, err)
  check_popen(p, "__close")
  for _, s in pairs{p.stdin, p.stdout, p.stderr} do s.raw:close() end
  if err ~= nil then
    native.popen_kill_and_reap(p.proc)
  elseif C.running() and C.running().current then
    popen_methods.wait(p)
  else
    p.proc:wait()
  end
end

Popen.__tostring = function(p) return "async " .. tostring(check_popen(p, "__tostring").proc) end

-- ---------------------------------------------------------------------- run

local RUN_OPTS = {"stdin", "stdout", "stderr", "cwd", "env", "env_add", "shell", "new_session",
                  "capture", "input", "timeout", "check"}
local CHECK_OUTPUT_OPTS = {"stdin", "stderr", "cwd", "env", "env_add", "shell", "new_session", "input", "timeout"}

-- Kills and reaps the child when run is left by an error, a timeout, a
-- cancellation or Ctrl-C.
local Reaper = {__close = function(r, err)
  if err ~= nil or not r.done then native.popen_kill_and_reap(r.p.proc) end
end}

local function run(args, opts, fname, check_output)
  tide._check_options(opts, 2, fname, check_output and CHECK_OUTPUT_OPTS or RUN_OPTS)
  opts = opts or {}
  local timeout = opts.timeout
  C.check_timeout(timeout, 2, fname)
  local popts = {}
  for k, v in pairs(opts) do
    if k ~= "capture" and k ~= "input" and k ~= "timeout" and k ~= "check" then popts[k] = v end
  end
  if opts.capture then
    if (opts.stdout ~= nil and opts.stdout ~= "inherit") or (opts.stderr ~= nil and opts.stderr ~= "inherit") then
      arg_error(2, fname, "capture=true cannot be combined with stdout or stderr")
    end
    popts.stdout, popts.stderr = "pipe", "pipe"
  end
  if check_output then popts.stdout = "pipe" end
  local input = opts.input
  if input ~= nil then
    if type(input) ~= "string" then arg_error(2, fname, "input must be a string, got " .. type(input)) end
    if opts.stdin ~= nil then arg_error(2, fname, "input cannot be combined with stdin") end
    popts.stdin = "pipe"
  end
  C.current(fname)
  local p = new_popen(args, popts, fname)
  local reaper <close> = setmetatable({p = p, done = false}, Reaper)
  local out, err = p:communicate(input, timeout)
  reaper.done = true
  local rc = p.proc.returncode
  if (opts.check or check_output) and rc ~= 0 then
    local what = rc < 0 and ("died with signal %d"):format(-rc) or ("returned non-zero exit status %d"):format(rc)
    local e = tide.error("CalledProcessError", ("command '%s' %s"):format(command_text(args), what))
    e.returncode, e.cmd, e.stdout, e.stderr = rc, args, out, err
    error(e, 0)
  end
  if check_output then return out end
  return {args = args, returncode = rc, stdout = out, stderr = err}
end

-- run(args, [opts]): tide.subprocess.run awaited: {args=, returncode=,
-- stdout=, stderr=}; options capture, input, timeout, check and Popen's.
function M.run(args, opts) return run(args, opts, "async.subprocess.run", false) end

-- check_output(args, [opts]): the command's stdout; CalledProcessError
-- when it does not return 0.
function M.check_output(args, opts) return run(args, opts, "async.subprocess.check_output", true) end

return M
