-- tide.subprocess (API.md §10): run, Popen, check_output, streams, every
-- option and stream choice, errors. Children are ordered by pipes and
-- their own exit, never by sleeps; a child that must block forever reads a
-- pipe nobody writes.
local T = require "harness"
local tide = require "tide"
local sp = require "tide.subprocess"
local os_ = require "tide.os"
local thread = require "tide.thread"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- A pipe whose write end we hold open: a child reading it blocks until we
-- close it (or it is killed).
local function blocker()
  local r, w = os_.pipe()
  return r, w
end

-- Is pid gone (or a zombie that someone else must reap)?
local function gone(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return true end
  local s = f:read("a") or ""
  f:close()
  return s:match("^%d+ %b() Z") ~= nil
end

-- Hang detector, not an ordering: waits until pid is gone.
local function wait_gone(pid)
  local deadline = tide.monotonic() + 10
  while not gone(pid) do
    if tide.monotonic() > deadline then error("pid " .. pid .. " still running") end
    thread.yield()
  end
end

-- ---- run ------------------------------------------------------------------

T.test("run captures stdout and stderr and returns args and returncode", function()
  local args = {"sh", "-c", "echo out; echo err >&2; exit 3"}
  local r = sp.run(args, {capture = true})
  T.eq(r.returncode, 3); T.eq(r.stdout, "out\n"); T.eq(r.stderr, "err\n")
  T.eq(r.args, args)
end)

T.test("run without capture leaves the streams inherited (stdout is nil)", function()
  local r = sp.run({"true"})
  T.eq(r.returncode, 0); T.eq(r.stdout, nil); T.eq(r.stderr, nil)
  local code, out, err = T.run_tide("-e " .. q([[require("tide.subprocess").run({"sh", "-c", "echo to-out; echo to-err >&2"})]]))
  T.eq(code, 0); T.eq(out, "to-out\n"); T.eq(err, "to-err\n")
end)

T.test("check=true raises CalledProcessError with returncode, cmd, stdout, stderr", function()
  local args = {"sh", "-c", "echo partial; echo oops >&2; exit 2"}
  local e = T.raises("CalledProcessError", "exit status 2", sp.run, args, {capture = true, check = true})
  T.eq(e.returncode, 2); T.eq(e.cmd, args); T.eq(e.stdout, "partial\n"); T.eq(e.stderr, "oops\n")
  e = T.raises("CalledProcessError", "died with SIGKILL", sp.run, {"sh", "-c", "kill -9 $$"}, {check = true})
  T.eq(e.returncode, -9); T.eq(e.stdout, nil)
  T.eq(sp.run({"true"}, {check = true}).returncode, 0)
end)

T.test("check_output returns stdout and raises CalledProcessError on failure", function()
  T.eq(sp.check_output({"printf", "a\\0b"}), "a\0b")
  T.eq(sp.check_output({"sh", "-c", "echo x; echo y >&2"}, {stderr = "stdout"}), "x\ny\n")
  local e = T.raises("CalledProcessError", sp.check_output, {"sh", "-c", "echo so-far; exit 1"})
  T.eq(e.stdout, "so-far\n"); T.eq(e.returncode, 1)
  T.raises("ArgumentError", "unknown option 'stdout'", sp.check_output, {"true"}, {stdout = "pipe"})
end)

T.test("input is written while the output is read (huge both ways)", function()
  local big = string.rep("0123456789abcdef", 1 << 19)  -- 8 MiB
  local r = sp.run({"cat"}, {input = big, capture = true})
  T.eq(#r.stdout, #big); T.truthy(r.stdout == big, "round trip"); T.eq(r.stderr, "")
  T.eq(sp.check_output({"wc", "-c"}, {input = ""}), "0\n")
end)

T.test("a child that fills stdout and stderr before reading its input does not deadlock", function()
  local script = "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2; wc -c"
  local input = string.rep("x", 1000000)
  local p = sp.Popen({"sh", "-c", script}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
  local out, err = p:communicate(input)
  T.eq(#out, 1000000 + #"1000000\n"); T.eq(out:sub(-8), "1000000\n"); T.eq(#err, 1000000)
  T.eq(p.returncode, 0)
end)

T.test("timeout kills the child, reaps it and raises Timeout carrying the output so far", function()
  local r, w = blocker()
  local t0 = tide.monotonic()
  local e = T.raises("Timeout", "timed out after 0.3 seconds", sp.run,
    {"sh", "-c", "echo partial; echo half-err >&2; echo $$; exec cat"}, {stdin = r, capture = true, timeout = 0.3})
  T.truthy(tide.monotonic() - t0 < 5, "returned promptly")
  T.eq(e.stdout:match("^partial\n"), "partial\n"); T.eq(e.stderr, "half-err\n")
  T.eq(e.timeout, 0.3); T.eq(e.cmd[1], "sh")
  local pid = math.tointeger(e.stdout:match("\n(%d+)\n"))
  T.truthy(gone(pid), "the child was reaped")
  os_.close(r); os_.close(w)
end)

T.test("new_session: a timeout kills the whole process group", function()
  local r, w = blocker()
  -- The grandchild holds stdout open: without the group kill the pipe would stay open.
  local e = T.raises("Timeout", sp.run, {"sh", "-c", "exec 3<&0; cat <&3 & echo $!; wait"},
    {stdin = r, stdout = "pipe", new_session = true, timeout = 0.3})
  local grandchild = math.tointeger(e.stdout:match("(%d+)"))
  T.truthy(grandchild, e.stdout)
  wait_gone(grandchild)
  os_.close(r); os_.close(w)
end)

-- ---- stream choices ---------------------------------------------------------

T.test("stream choices: pipe, inherit, null, stdout (stderr only)", function()
  local r = sp.run({"cat"}, {stdin = "null", stdout = "pipe"})
  T.eq(r.stdout, "")
  r = sp.run({"sh", "-c", "echo o; echo e >&2"}, {stdout = "null", stderr = "pipe"})
  T.eq(r.stdout, nil); T.eq(r.stderr, "e\n")
  r = sp.run({"sh", "-c", "echo o; echo e >&2"}, {stdout = "pipe", stderr = "stdout"})
  T.eq(r.stdout, "o\ne\n"); T.eq(r.stderr, nil)
  r = sp.run({"sh", "-c", "echo e >&2"}, {stdout = "null", stderr = "stdout"})
  T.eq(r.stdout, nil)
  r = sp.run({"true"}, {stdin = "inherit", stdout = "inherit", stderr = "inherit"})
  T.eq(r.returncode, 0)
  T.eq(sp.PIPE, "pipe"); T.eq(sp.DEVNULL, "null"); T.eq(sp.STDOUT, "stdout"); T.eq(sp.INHERIT, "inherit")
end)

T.test("stream choices: a descriptor and a Lua file", function()
  local r, w = os_.pipe()
  T.eq(sp.run({"echo", "via fd"}, {stdout = w}).returncode, 0)
  os_.close(w)
  T.eq(os_.read(r, 100), "via fd\n")
  os_.close(r)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("before ")  -- buffered by Lua: flushed before the child writes
  sp.run({"echo", "child"}, {stdout = f})
  f:close()
  f = assert(io.open(path)); T.eq(f:read("a"), "before child\n"); f:close()
  f = assert(io.open(path))
  T.eq(sp.check_output({"cat"}, {stdin = f}), "before child\n")
  f:close()
  os.remove(path)
  local closed = io.open("/dev/null"); closed:close()
  T.raises("ArgumentError", "closed", sp.run, {"true"}, {stdout = closed})
  T.raises("ArgumentError", "not open", sp.run, {"true"}, {stdout = 987654})
end)

T.test("a pipeline of three: each stdout is the next stdin, closed in the parent", function()
  local a = sp.Popen({"printf", "b\\na\\nc\\n"}, {stdout = "pipe"})
  local b = sp.Popen({"tr", "a-z", "A-Z"}, {stdin = a.stdout, stdout = "pipe"})
  T.truthy(a.stdout.closed, "a.stdout passed on")
  local c = sp.Popen({"sort"}, {stdin = b.stdout, stdout = "pipe"})
  T.truthy(b.stdout.closed, "b.stdout passed on")
  T.eq(c.stdout:read("a"), "A\nB\nC\n")
  T.eq(a:wait(), 0); T.eq(b:wait(), 0); T.eq(c:wait(), 0)
  T.raises("InvalidState", "closed", a.stdout.read, a.stdout)
  -- A pipeline whose next command cannot run leaves the stream as it was.
  local d = sp.Popen({"sh", "-c", "echo still; exec cat"}, {stdin = "pipe", stdout = "pipe"})
  T.raises("OSError", sp.Popen, {"no-such-command-xyz"}, {stdin = d.stdout})
  T.falsy(d.stdout.closed, "kept")
  local f = io.open("/proc/self/fdinfo/" .. d.stdout:fileno())
  local flags = tonumber(f:read("a"):match("flags:%s+(%d+)"), 8)
  f:close()
  T.eq(flags & 2048, 2048, "still O_NONBLOCK: its reads keep waiting in wait_fd")
  T.eq(d.stdout:read("l"), "still")
  d.stdin:close()
  T.eq(d.stdout:read("a"), "")
  T.eq(d:wait(), 0)
  -- EOF propagates: the consumer ends although the producer's stdout was ours too.
  local p1 = sp.Popen({"sh", "-c", "echo x; exec cat"}, {stdin = "pipe", stdout = "pipe"})
  local p2 = sp.Popen({"cat"}, {stdin = p1.stdout, stdout = "pipe"})
  p1.stdin:close()
  T.eq(p2.stdout:read("a"), "x\n")
  T.eq(p2:wait(), 0); T.eq(p1:wait(), 0)
end)

-- ---- cwd, env, shell ------------------------------------------------------

T.test("cwd runs the child there; a missing cwd is OSError naming it", function()
  T.eq(sp.check_output({"pwd"}, {cwd = "/tmp"}), "/tmp\n")
  local e = T.raises("OSError", "cannot run 'pwd': cwd '/no/such/dir'", sp.run, {"pwd"}, {cwd = "/no/such/dir"})
  T.eq(e.errno, 2)
  e = T.raises("OSError", "cwd '/etc/passwd'", sp.run, {"pwd"}, {cwd = "/etc/passwd"})
  T.eq(e.errno, 20)
end)

T.test("env replaces the environment, env_add merges, odd bytes survive", function()
  local odd = "\xff\xfe tab\t newline\n = equals \1"
  local out = sp.check_output({"/usr/bin/env"}, {env = {ODD = odd, N = 5}})
  local lines = {}
  for l in out:gmatch("[^\n]*\n?") do if l ~= "" then lines[#lines + 1] = l end end
  T.truthy(out:find("ODD=" .. odd, 1, true), "odd value")
  T.truthy(out:find("N=5\n", 1, true), "number value")
  T.falsy(out:find("PATH=", 1, true), "replaced: no PATH")
  local keyed = sp.check_output({"/usr/bin/env"}, {env = {["K\xe9Y"] = "v"}})
  T.eq(keyed, "K\xe9Y=v\n")
  out = sp.check_output({"sh", "-c", 'printf "%s|%s" "$ADDED" "$HOME"'}, {env_add = {ADDED = "yes", HOME = "/nowhere"}})
  T.eq(out, "yes|/nowhere")
  out = sp.check_output({"/usr/bin/env"}, {env = {A = "1"}, env_add = {B = "2"}})
  T.truthy(out == "A=1\nB=2\n" or out == "B=2\nA=1\n", out)
  T.eq(sp.check_output({"/usr/bin/env"}, {env = {}}), "")
  T.raises("ArgumentError", "zero byte", sp.run, {"true"}, {env = {A = "x\0y"}})
  T.raises("ArgumentError", "illegal variable name", sp.run, {"true"}, {env = {["A=B"] = "x"}})
  T.raises("ArgumentError", "illegal variable name", sp.run, {"true"}, {env_add = {[""] = "x"}})
  T.raises("ArgumentError", "must be a string", sp.run, {"true"}, {env = {A = true}})
  T.raises("ArgumentError", "must be a table", sp.run, {"true"}, {env = "A=1"})
end)

T.test("the child's PATH finds the program when env replaces it", function()
  T.raises("OSError", "not found in PATH", sp.run, {"true"}, {env = {PATH = "/nonexistent"}})
  T.eq(sp.run({"true"}, {env = {PATH = "/bin:/usr/bin"}}).returncode, 0)
end)

T.test("shell=true runs a string through /bin/sh; array items after the first are $0, $1", function()
  T.eq(sp.check_output("echo $((6 * 7)) | tr 4 X", {shell = true}), "X2\n")
  T.eq(sp.check_output({'echo "$0-$1"', "zero", "one"}, {shell = true}), "zero-one\n")
  T.raises("ArgumentError", "needs shell=true", sp.run, "echo hi")
end)

-- ---- errors -----------------------------------------------------------------

T.test("a command that does not exist or is not executable is OSError naming it", function()
  local e = T.raises("OSError", "cannot run 'no%-such%-command%-xyz'", sp.run, {"no-such-command-xyz"})
  T.eq(e.errno, 2)
  e = T.raises("OSError", "cannot run '/no/such/file'", sp.Popen, {"/no/such/file"})
  T.eq(e.errno, 2)
  local path = os.tmpname()  -- exists, not executable
  e = T.raises("OSError", "Permission denied", sp.run, {path})
  T.eq(e.errno, 13)
  os.remove(path)
  e = T.raises("OSError", sp.run, {"/tmp"})
  T.eq(e.errno, 13)
  -- from a worker thread too
  local t = thread.spawn(function()
    local ok, err = pcall(require("tide.subprocess").run, {"no-such-command-xyz"})
    return ok, err.kind, err.errno
  end)
  local ok, kind, errno = t:join()
  T.eq(ok, false); T.eq(kind, "OSError"); T.eq(errno, 2)
end)

T.test("bad arguments are ArgumentError: nil, empty, non-strings, zero bytes, bad options", function()
  T.raises("ArgumentError", "array of strings expected, got nil", sp.run)
  T.raises("ArgumentError", "array of strings expected, got nil", sp.Popen, nil)
  T.raises("ArgumentError", "args is empty", sp.run, {})
  T.raises("ArgumentError", "args%[2%] must be a string, got number", sp.run, {"echo", 1})
  T.raises("ArgumentError", "args%[2%] must be a string, got table", sp.run, {"echo", {}})
  T.raises("ArgumentError", "args%[1%] must be a string, got boolean", sp.check_output, {true})
  T.raises("ArgumentError", "args%[2%] contains a zero byte", sp.run, {"echo", "a\0b"})
  T.raises("ArgumentError", "contains a zero byte", sp.run, "echo a\0b", {shell = true})
  T.raises("ArgumentError", "cwd' contains a zero byte", sp.run, {"true"}, {cwd = "/tmp\0x"})
  T.raises("ArgumentError", "options table expected", sp.run, {"true"}, "capture")
  local e = T.raises("ArgumentError", "unknown option 'capture_output'", sp.run, {"true"}, {capture_output = true})
  T.match(e.message, "accepted: capture, check, cwd")
  T.raises("ArgumentError", "unknown option 'timeout'", sp.Popen, {"true"}, {timeout = 1})
  T.raises("ArgumentError", "unknown option 'capture'", sp.Popen, {"true"}, {capture = true})
  T.raises("ArgumentError", "option names are strings", sp.run, {"true"}, {1})
  T.raises("ArgumentError", "must be a boolean", sp.run, {"true"}, {check = "yes"})
  T.raises("ArgumentError", "must be a boolean", sp.run, {"true"}, {shell = 1})
  T.raises("ArgumentError", "timeout' must be a non%-negative number", sp.run, {"true"}, {timeout = -1})
  T.raises("ArgumentError", "timeout' must be a non%-negative number", sp.run, {"true"}, {timeout = "1"})
  T.raises("ArgumentError", "input' must be a string", sp.run, {"cat"}, {input = 5})
  T.raises("ArgumentError", "input cannot be combined with stdin", sp.run, {"cat"}, {input = "x", stdin = "pipe"})
  T.raises("ArgumentError", "capture=true cannot be combined", sp.run, {"true"}, {capture = true, stdout = "null"})
  T.raises("ArgumentError", "option 'stdin' must be", sp.run, {"true"}, {stdin = "stdout"})
  T.raises("ArgumentError", "option 'stdout' must be", sp.run, {"true"}, {stdout = "pipes"})
  T.raises("ArgumentError", "option 'stderr' must be a string, a descriptor", sp.run, {"true"}, {stderr = {}})
  T.raises("ArgumentError", "non%-negative integer", sp.run, {"true"}, {stdout = -1})
  T.raises("ArgumentError", "non%-negative integer", sp.run, {"true"}, {stdout = 1.5})
  T.raises("ArgumentError", "cwd' is empty", sp.run, {"true"}, {cwd = ""})
end)

-- ---- Popen --------------------------------------------------------------------

T.test("Popen: pid, poll, wait, returncode, terminate, kill, send_signal", function()
  local r, w = blocker()
  local p = sp.Popen({"cat"}, {stdin = r, stdout = "null"})
  T.truthy(p.pid > 0, "pid")
  T.eq(p:poll(), nil); T.eq(p.returncode, nil)
  local e = T.raises("Timeout", p.wait, p, 0.05)
  T.eq(e.cmd[1], "cat")
  p:terminate()
  T.eq(p:wait(), -15); T.eq(p.returncode, -15); T.eq(p:poll(), -15)
  p:terminate()  -- after the end: nothing happens
  local k = sp.Popen({"cat"}, {stdin = r})
  k:kill()
  T.eq(k:wait(), -9)
  local u = sp.Popen({"cat"}, {stdin = r})
  u:send_signal("SIGUSR1")
  T.eq(u:wait(), -10)
  local n = sp.Popen({"cat"}, {stdin = r})
  n:send_signal(15)
  T.eq(n:wait(), -15)
  T.raises("ArgumentError", "unknown signal", n.send_signal, n, "SIGNOPE")
  os_.close(r); os_.close(w)
  T.match(tostring(p), "tide.Popen %(pid %d+, 'cat', returncode %-15%)")
  T.eq(p.args[1], "cat")
  T.eq(p.stdin, nil); T.eq(p.stdout, nil)
end)

T.test("communicate returns stdout and stderr (nil when not piped) and sets returncode", function()
  local p = sp.Popen({"sh", "-c", "cat; echo err >&2"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"})
  local out, err = p:communicate("fed")
  T.eq(out, "fed"); T.eq(err, "err\n"); T.eq(p.returncode, 0)
  local q2 = sp.Popen({"echo", "x"}, {stdout = "pipe"})
  out, err = q2:communicate()
  T.eq(out, "x\n"); T.eq(err, nil)
  T.raises("InvalidState", "stdin is not a pipe", q2.communicate, q2, "input")
  local q3 = sp.Popen({"cat"}, {stdin = "pipe"})
  q3.stdin:close()
  T.raises("InvalidState", "stdin is closed", q3.communicate, q3, "input")
  q3:wait()
end)

T.test("communicate timeout carries the output so far; a later call goes on", function()
  local r, w = blocker()
  local p = sp.Popen({"sh", "-c", "echo first; exec cat"}, {stdin = r, stdout = "pipe"})
  -- The child blocks in cat after printing "first".
  local e = T.raises("Timeout", p.communicate, p, nil, 0.3)
  T.eq(e.stdout, "first\n")
  T.eq(p.returncode, nil)
  p:kill()
  local out = p:communicate()
  T.eq(out, "first\n")
  T.eq(p.returncode, -9)
  os_.close(r); os_.close(w)
  local p2 = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
  T.eq(p2:communicate("a"), "a")
  T.raises("InvalidState", "after communication started", p2.communicate, p2, "b")
end)

T.test("streams: read(n), read(), read('l'/'L'), lines(), write chains, EOF is nil", function()
  local p = sp.Popen({"printf", "one\\ntwo\\nthree"}, {stdout = "pipe"})
  local s = p.stdout
  T.eq(s:read("l"), "one"); T.eq(s:read("L"), "two\n")
  T.eq(s:read(3), "thr"); T.eq(s:read(0), ""); T.eq(s:read(100), "ee")
  T.eq(s:read(10), nil); T.eq(s:read("l"), nil); T.eq(s:read(0), nil)
  T.eq(s:read(), ""); T.eq(s:read("a"), "")
  p:wait()
  p = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
  T.eq(p.stdin:write("a\n", 2, "\n"):write("last"), p.stdin)
  p.stdin:flush()
  p.stdin:close(); p.stdin:close()  -- idempotent
  local got = {}
  for l in p.stdout:lines() do got[#got + 1] = l end
  T.same(got, {"a", "2", "last"})
  T.eq(p:wait(), 0)
  T.truthy(p.stdin.closed, "closed field")
  T.raises("InvalidState", "closed", p.stdin.write, p.stdin, "x")
  local p4 = sp.Popen({"cat"}, {stdin = "pipe", stdout = "pipe"})
  T.raises("InvalidState", "can only be read", p4.stdout.write, p4.stdout, "x")
  T.raises("InvalidState", "can only be written", p4.stdin.read, p4.stdin)
  p4.stdin:close(); p4:wait()
  T.raises("ArgumentError", p.stdout.read, p.stdout, -1)
  T.raises("ArgumentError", p.stdout.read, p.stdout, "x")
  T.raises("ArgumentError", p.stdout.write, p.stdout, {})
  T.match(tostring(p.stdin), "Stream %(stdin, closed%)")
  T.match(tostring(p.stdout), "Stream %(stdout, fd %d+%)")
  local p3 = sp.Popen({"printf", "a\\nb\\n"}, {stdout = "pipe"})
  local kept = {}
  for l in p3.stdout:lines("L") do kept[#kept + 1] = l end
  T.same(kept, {"a\n", "b\n"})
  T.truthy(p3.stdout:fileno() >= 3, "fileno")
  p3:wait()
end)

T.test("writing to a child that exited is OSError EPIPE, not a dead host", function()
  local p = sp.Popen({"true"}, {stdin = "pipe"})
  p:wait()
  local e = T.raises("OSError", "Broken pipe", p.stdin.write, p.stdin, string.rep("x", 1 << 20))
  T.eq(e.errno, 32)
end)

T.test("100 MB through read(n) and a million lines through lines() in bounded memory", function()
  local function rss_peak()
    local f = io.open("/proc/self/status"); local s = f:read("a"); f:close()
    return tonumber(s:match("VmHWM:%s+(%d+)")) * 1024
  end
  local before = rss_peak()
  local p = sp.Popen({"head", "-c", "100000000", "/dev/zero"}, {stdout = "pipe"})
  local total = 0
  while true do
    local chunk = p.stdout:read(65536)
    if not chunk then break end
    total = total + #chunk
  end
  T.eq(total, 100000000); T.eq(p:wait(), 0)
  local line = string.rep("y", 99)
  p = sp.Popen({"sh", "-c", "yes " .. line .. " | head -n 1000000"}, {stdout = "pipe"})
  local n, ok = 0, true
  for l in p.stdout:lines() do
    n = n + 1
    ok = ok and l == line
  end
  T.eq(n, 1000000); T.truthy(ok, "every line intact"); T.eq(p:wait(), 0)
  local grown = rss_peak() - before
  -- ASan keeps freed memory in quarantine (256 MB by default) before reuse.
  local limit = (64 + (T.sanitizer == "asan" and 256 or 0)) * 1024 * 1024
  T.truthy(grown < limit, "peak memory grew by " .. grown .. " bytes")
end)

T.test("the child inherits only 0, 1, 2; its signal mask is empty and SIGPIPE is not ignored", function()
  local leaked = io.open("/dev/null")  -- Lua opens files without O_CLOEXEC
  local fds = sp.check_output({"ls", "/proc/self/fd"})
  T.eq(fds, "0\n1\n2\n3\n")  -- 3 is ls's own directory
  leaked:close()
  local signal = require "tide.signal"
  local previous = signal.signal("SIGPIPE", "ignore")
  local status = thread.spawn(function()  -- a worker thread blocks every signal
    return require("tide.subprocess").check_output({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"})
  end):join()
  signal.signal("SIGPIPE", previous)
  T.match(status, "SigBlk:%s+0+\n")
  local ign = tonumber(status:match("SigIgn:%s+(%x+)"), 16)
  T.eq((ign >> 12) & 1, 0, "SIGPIPE (13) not ignored")
end)

T.test("a wrong self and released objects are typed errors, never a crash", function()
  local p = sp.Popen({"true"}, {stdout = "pipe"})
  T.raises("ArgumentError", "tide.Popen expected, got FILE%*", p.wait, io.stdout)
  T.raises("ArgumentError", "tide.subprocess.Stream expected", p.stdout.read, io.stdout)
  T.raises("ArgumentError", "tide.Popen expected", getmetatable(p).__gc, io.stdout)
  T.raises("ArgumentError", "tide.Popen expected", p.poll)
  -- A Popen belongs to its state: it does not cross to a thread.
  T.raises("TransferError", thread.spawn, function(x) return x end, p)
  T.raises("TransferError", thread.spawn, function(x) return x end, p.stdout)
  T.eq(p:wait(), 0)
  local s = p.stdout
  getmetatable(s).__gc(s); getmetatable(s).__gc(s)
  T.raises("InvalidState", "released", s.read, s)
  T.raises("InvalidState", "released", function() return s.closed end)
  getmetatable(p).__gc(p); getmetatable(p).__gc(p)
  T.raises("InvalidState", "released", p.poll, p)
  T.raises("InvalidState", "released", function() return p.pid end)
end)

-- ---- threads, pools, cancellation ----------------------------------------------

T.test("runs from threads and pool workers in parallel", function()
  local pool = require("tide.pool").ThreadPool{workers = 4}
  local results = pool:map(function(i)
    return require("tide.subprocess").check_output({"sh", "-c", "echo $(( " .. i .. " * 2 ))"})
  end, {1, 2, 3, 4, 5, 6, 7, 8})
  pool:shutdown()
  for i = 1, 8 do T.eq(results[i], (i * 2) .. "\n") end
end)

T.test("a thread blocked in wait, communicate or a read is cancelled; run kills its child", function()
  local r, w = blocker()
  local kinds = {
    wait = function(fd) local p = require("tide.subprocess").Popen({"cat"}, {stdin = fd}) return p:wait() end,
    communicate = function(fd)
      local p = require("tide.subprocess").Popen({"cat"}, {stdin = fd, stdout = "pipe"})
      return p:communicate()
    end,
    read = function(fd)
      local p = require("tide.subprocess").Popen({"cat"}, {stdin = fd, stdout = "pipe"})
      return p.stdout:read(1)
    end,
  }
  for name, fn in pairs(kinds) do
    local t = thread.spawn(fn, r)
    T.wait_blocked(t)
    t:cancel()
    T.raises("Cancelled", t.join, t)
  end
  os_.close(r); os_.close(w)
end)

T.test("run in a cancelled thread kills and reaps its child", function()
  local r, w = blocker()
  local pr, pw = os_.pipe()
  local t = thread.spawn(function(fd, out)
    return require("tide.subprocess").run({"sh", "-c", "echo $$; exec cat"}, {stdin = fd, stdout = out})
  end, r, pw)
  local pid = math.tointeger(tonumber(os_.read(pr, 100)))
  T.wait_blocked(t)
  t:cancel()
  T.raises("Cancelled", t.join, t)
  T.truthy(gone(pid), "child killed and reaped")
  for _, fd in ipairs{r, w, pr, pw} do os_.close(fd) end
end)

T.test("children and tide.process / tide.os.waitpid do not take each other's statuses", function()
  local process = require "tide.process"
  local pr = process.Process{target = function() return 7 end, start_method = "fork"}
  pr:start()
  local p = sp.Popen({"sh", "-c", "exit 5"})
  T.eq(p:wait(), 5)
  pr:wait()
  T.eq(pr.exitcode, 0)
  local pid = T.fork(function() return 9 end)
  T.eq(sp.run({"sh", "-c", "exit 4"}).returncode, 4)
  T.eq(T.exit_code(pid), 9)
  -- A child reaped behind its Popen's back reports 0, as in Python.
  local stolen = sp.Popen({"true"})
  local got = os_.waitpid(-1, 0)
  T.eq(got, stolen.pid)
  T.eq(stolen:wait(), 0)
end)

T.test("<close>: leaving normally waits; leaving by an error kills the child", function()
  local r, w = blocker()
  local pid
  local ok = pcall(function()
    local p <close> = sp.Popen({"cat"}, {stdin = r})
    pid = p.pid
    error("leaving")
  end)
  T.falsy(ok)
  T.truthy(gone(pid), "killed and reaped")
  local code
  do
    local p <close> = sp.Popen({"sh", "-c", "exit 6"}, {stdout = "pipe"})
    code = p
  end
  T.eq(code.returncode, 6)
  os_.close(r); os_.close(w)
end)

T.test("a Popen dropped unwaited is reaped when the next child starts (no zombie)", function()
  local p = sp.Popen({"true"})
  local pid = p.pid
  p = nil
  collectgarbage(); collectgarbage()
  local deadline = tide.monotonic() + 10
  repeat
    sp.run({"true"})
    local f = io.open("/proc/" .. pid .. "/stat")
    if not f then break end
    f:close()
    thread.yield()
  until tide.monotonic() > deadline
  T.truthy(io.open("/proc/" .. pid .. "/stat") == nil, "reaped")
end)

T.test("Ctrl-C interrupts run in the main state; at exit a child ignoring SIGTERM is killed after the grace period", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local script = [[
    local sp = require("tide.subprocess")
    local p = sp.Popen({"sh", "-c", "trap '' TERM; echo ready; exec cat"}, {stdin = "pipe", stdout = "pipe"})
    p.stdout:read("l")
    print(require("tide.os").getpid(), p.pid) io.stdout:flush()
    local r = require("tide.os").pipe()  -- its write end stays open: cat blocks
    sp.run({"cat"}, {stdin = r})]]
  local f = assert(io.popen(bin .. " -e " .. q(script) .. " 2>&1; echo status $?"))
  local tide_pid, child = f:read("l"):match("(%d+)%s+(%d+)")
  T.truthy(tide_pid, "pids")
  os_.kill(math.tointeger(tonumber(tide_pid)), "SIGINT")
  local rest = f:read("a")
  f:close()
  T.match(rest, "Interrupted")
  T.match(rest, "status 130")
  T.truthy(gone(child), "the child that ignored SIGTERM was killed")
end)

T.done()
