-- tide.pipe (API.md §8): connections between threads and fork children,
-- framing errors, cancellation, FIFOs. Ordered with pipes, queues and
-- waitpid, never with sleeps.
local T = require "harness"
local tide = require "tide"
local pipe = require "tide.pipe"
local thread = require "tide.thread"
local queue = require "tide.queue"
local sync = require "tide.sync"
local shared = require "tide.shared"
local os_ = require "tide.os"

-- ---- values -------------------------------------------------------------

T.test("every transferable kind round-trips", function()
  local a, b = pipe.Pipe()
  local cyc = {name = "cycle"}; cyc.self = cyc
  local k = 7
  local values = {
    false, true, 0, -1, math.maxinteger, math.mininteger, 1.5, -0.0, 1 / 0, -1 / 0,
    "", "plain", "bin\0ary\255", string.rep("z", 70000),
    {1, 2, 3, {4, {5}}, x = {y = {z = "deep"}}, [true] = "bool key", [2.5] = "float key"},
  }
  for i, v in ipairs(values) do
    a:send(v)
    local got = b:recv()
    if type(v) == "table" then T.same(got, v, "value " .. i) else T.eq(got, v, "value " .. i) end
    T.eq(math.type(got), math.type(v), "number subtype " .. i)
  end
  a:send(nil); T.eq(select("#", b:recv()), 1)
  a:send(0 / 0); local nan = b:recv(); T.truthy(nan ~= nan, "nan")
  a:send(cyc); local c = b:recv(); T.truthy(c.self == c, "cycle kept"); T.eq(c.name, "cycle")
  local shared_sub = {}
  a:send({shared_sub, shared_sub}); local s = b:recv(); T.truthy(s[1] == s[2], "shared sub-table kept")
  a:send(function(x) return x * k end); T.eq(b:recv()(6), 42)
  a:send(string.upper); T.eq(b:recv()("abc"), "ABC")
  T.raises("TransferError", "coroutine", a.send, a, {co = coroutine.create(print)})
  a:send("still usable"); T.eq(b:recv(), "still usable")
end)

T.test("several values in one message come back as several values", function()
  local a, b = pipe.Pipe()
  a:send(1, nil, "three", {4})
  local n = table.pack(b:recv())
  T.eq(n.n, 4); T.eq(n[1], 1); T.eq(n[2], nil); T.eq(n[3], "three"); T.eq(n[4][1], 4)
  b:send("x", "y"); local x, y = a:recv(); T.eq(x, "x"); T.eq(y, "y")
end)

T.test("send_bytes / recv_bytes, and recv takes bytes too", function()
  local a, b = pipe.Pipe()
  a:send_bytes("raw\0bytes"); T.eq(b:recv_bytes(), "raw\0bytes")
  a:send_bytes(""); T.eq(b:recv_bytes(), "")
  a:send_bytes("via recv"); T.eq(b:recv(), "via recv")
  a:send("a string is sent as bytes"); T.eq(b:recv_bytes(), "a string is sent as bytes")
end)

T.test("recv_bytes: too long or not bytes is an error and the message stays", function()
  local a, b = pipe.Pipe()
  a:send_bytes("0123456789")
  T.raises("TransferError", "maxlen", b.recv_bytes, b, 4)
  T.eq(b:recv_bytes(10), "0123456789")
  a:send({1, 2})
  T.raises("TransferError", "recv%(%)", b.recv_bytes, b)
  T.eq(b:recv()[2], 2)
end)

T.test("big messages (> 1 MiB) both ways at once do not deadlock", function()
  local a, b = pipe.Pipe()
  local big1, big2 = string.rep("a", 3 * 1024 * 1024), {string.rep("b", 2 * 1024 * 1024), n = 2}
  local ta = thread.spawn(function(c, v) c:send(v) return true end, a, big1)
  local tb = thread.spawn(function(c, v) c:send(v) return true end, b, big2)
  local got_b = a:recv()
  local got_a = b:recv()
  T.eq(#got_a, #big1); T.truthy(got_a == big1)
  T.eq(got_b.n, 2); T.truthy(got_b[1] == big2[1])
  T.truthy(ta:join()); T.truthy(tb:join())
end)

T.test("two threads sending big messages on one connection never interleave", function()
  local a, b = pipe.Pipe()
  local N = 20
  local function sender(c, ch, n)
    local s = string.rep(ch, 300000)
    for i = 1, n do c:send(i, s) end
  end
  local t1 = thread.spawn(sender, a, "x", N)
  local t2 = thread.spawn(sender, a, "y", N)
  local next_ = {x = 1, y = 1}
  for _ = 1, 2 * N do
    local i, s = b:recv()
    T.eq(#s, 300000)
    local ch = s:sub(1, 1)
    T.truthy(s == string.rep(ch, 300000), "one sender's bytes only")
    T.eq(i, next_[ch]); next_[ch] = i + 1
  end
  t1:join(); t2:join()
end)

-- ---- waiting ------------------------------------------------------------

T.test("recv times out; timeout 0 does not block", function()
  local a, b = pipe.Pipe()
  T.raises("Timeout", b.recv, b, 0)
  local t0 = tide.monotonic()
  T.raises("Timeout", b.recv, b, 0.05)
  T.truthy(tide.monotonic() - t0 >= 0.04, "waited for the timeout")
  a:send(1); T.eq(b:recv(0), 1)
end)

T.test("poll: false while empty, true when a message (or the end) is there", function()
  local a, b = pipe.Pipe()
  T.falsy(b:poll()); T.falsy(b:poll(0.02))
  a:send("m"); T.truthy(b:poll()); T.truthy(b:poll(1))
  a:send("n")
  T.eq(b:recv(), "m"); T.truthy(b:poll(), "second message already buffered"); T.eq(b:recv(), "n")
  T.falsy(b:poll())
  a:close(); T.truthy(b:poll(), "end of stream counts as ready")
end)

T.test("pipe.wait returns the ready connections, or none at the timeout", function()
  local a1, b1 = pipe.Pipe()
  local a2, b2 = pipe.Pipe()
  local a3, b3 = pipe.Pipe(false)
  T.eq(#pipe.wait({b1, b2, a3}, 0), 0)
  T.eq(#pipe.wait({b1, b2, a3}, 0.02), 0)
  a2:send("two"); b3:send("three")
  local ready = pipe.wait({b1, b2, a3}, 1)
  T.eq(#ready, 2); T.truthy(rawequal(ready[1], b2)); T.truthy(rawequal(ready[2], a3))
  T.eq(b2:recv(), "two"); T.eq(a3:recv(), "three")
  -- a message already in a receive buffer counts
  a1:send(1); a1:send(2); T.eq(b1:recv(), 1)
  ready = pipe.wait({b1, b2})
  T.eq(#ready, 1); T.truthy(rawequal(ready[1], b1)); T.eq(b1:recv(), 2)
  -- a thread's message wakes a blocked wait
  local t = thread.spawn(function(c) c:send("late") end, a2)
  ready = pipe.wait({b1, b2})
  T.truthy(rawequal(ready[1], b2)); T.eq(b2:recv(), "late"); t:join()
end)

T.test("a thread blocked in recv is cancelled", function()
  local a, b = pipe.Pipe()
  local started = queue.Queue()
  local t = thread.spawn(function(c, started) started:put(1); return c:recv() end, b, started)
  started:get()
  T.wait_blocked(t)
  t:cancel()
  T.raises("Cancelled", t.join, t)
  a:send("after the cancel"); T.eq(b:recv(), "after the cancel")
end)

T.test("a thread blocked in pipe.wait and in poll is cancelled", function()
  local _, b = pipe.Pipe()
  local t1 = thread.spawn(function(p, c) return p.wait({c}) end, pipe, b)
  local t2 = thread.spawn(function(c) return c:poll(nil) end, b)
  T.wait_blocked(t1); T.wait_blocked(t2)
  t1:cancel(); t2:cancel()
  T.raises("Cancelled", t1.join, t1); T.raises("Cancelled", t2.join, t2)
end)

T.test("SIGINT interrupts a recv blocked in the main state", function()
  local _, b = pipe.Pipe()
  local pid = os_.getpid()
  local t = thread.spawn(function(pid)
    local os_ = require "tide.os"
    local thread = require "tide.thread"
    repeat  -- until the main thread sleeps in the kernel
      local f = io.open(string.format("/proc/%d/task/%d/stat", pid, pid))
      local stat = f:read("a"); f:close()
      if stat:match("%) S ") then break end
      thread.yield()
    until false
    os_.kill(pid, "SIGINT")
  end, pid)
  T.raises("Interrupted", b.recv, b)
  t:join()
end)

-- ---- end of stream and closing ------------------------------------------

T.test("pending messages are delivered before Closed at end of stream", function()
  local a, b = pipe.Pipe()
  a:send(1); a:send_bytes("two"); a:send({3})
  a:close()
  T.eq(b:recv(), 1); T.eq(b:recv(), "two"); T.eq(b:recv()[1], 3)
  T.raises("Closed", b.recv, b)
  T.raises("Closed", b.recv, b, 0)
  T.raises("Closed", b.send, b, "to nobody")
end)

T.test("close is idempotent; use after close is InvalidState; __close closes", function()
  local a, b = pipe.Pipe()
  T.falsy(a.closed)
  a:close(); a:close()
  T.truthy(a.closed)
  T.raises("InvalidState", "closed", a.send, a, 1)
  T.raises("InvalidState", "closed", a.recv, a)
  T.raises("InvalidState", "closed", a.poll, a)
  T.raises("InvalidState", "closed", a.fileno, a)
  T.raises("InvalidState", "closed", pipe.wait, {a})
  do
    local c, d = pipe.Pipe()
    local c2 <close> = c
    local d2 <close> = d
    c:send("scoped"); T.eq(d:recv(), "scoped")
    b = d
  end
  T.truthy(b.closed, "closed by <close>")
end)

T.test("a connection dropped by the garbage collector closes its descriptor", function()
  local a, b = pipe.Pipe()
  a = nil
  collectgarbage(); collectgarbage()
  T.raises("Closed", b.recv, b, 5)
end)

T.test("simplex: a only receives, b only sends", function()
  local a, b = pipe.Pipe(false)
  T.truthy(a.readable); T.falsy(a.writable); T.falsy(b.readable); T.truthy(b.writable)
  b:send("one way"); T.eq(a:recv(), "one way")
  T.raises("InvalidState", "only receives", a.send, a, 1)
  T.raises("InvalidState", "only sends", b.recv, b)
  T.raises("ArgumentError", pipe.wait, {b})
end)

-- ---- corrupt input ------------------------------------------------------

-- The raw bytes of one frame, as a connection writes them to its socket.
-- A Pipe()'s small messages take its shared-memory lane, but once a
-- message too big for the lane went through the socket, later ones follow
-- it there until it is read (host/pipe/lane.hpp): so a big one goes first,
-- and is cut off here.
local function frame_bytes(...)
  local a, b = pipe.Pipe()
  local filler = string.rep("f", 100000)
  a:send_bytes(filler)
  a:send(...)
  local raw = os_.read(b:fileno(), 1 << 20)
  a:close(); b:close()
  T.truthy(#raw > 24 + #filler, "both frames came through the socket")
  return raw:sub(24 + #filler + 1)
end

T.test("garbage written to a connection's descriptor: TransferError, closed, no crash", function()
  local a, b = pipe.Pipe()
  os_.write(a:fileno(), "this is not a frame")
  T.raises("TransferError", "bad magic", b.recv, b)
  T.truthy(b.closed)
  T.raises("InvalidState", b.recv, b)
  -- a bogus header with the right magic, claiming a huge length
  local a2, b2 = pipe.Pipe()
  local raw = frame_bytes("x")
  os_.write(a2:fileno(), raw:sub(1, 12) .. "\255\255\255\127" .. raw:sub(17))
  T.raises("TransferError", "header", b2.recv, b2)
  T.truthy(b2.closed)
end)

T.test("a flipped payload byte fails the checksum", function()
  local a, b = pipe.Pipe()
  local raw = frame_bytes({1, 2, 3})
  local i = #raw - 1
  os_.write(a:fileno(), raw:sub(1, i - 1) .. string.char((raw:byte(i) + 1) % 256) .. raw:sub(i + 1))
  T.raises("TransferError", "checksum", b.recv, b)
  T.truthy(b.closed)
end)

T.test("a frame cut short by the end of stream is a TransferError", function()
  local a, b = pipe.Pipe()
  local raw = frame_bytes(string.rep("q", 5000))
  a:send("whole")
  os_.write(a:fileno(), raw:sub(1, 3000))
  a:close()
  T.eq(b:recv(), "whole")
  T.raises("TransferError", "truncated", b.recv, b)
  T.truthy(b.closed)
end)

T.test("a forged object ticket is refused", function()
  local a, b = pipe.Pipe()
  local raw = frame_bytes(sync.Lock())
  local c, d = pipe.Pipe()
  os_.write(c:fileno(), raw)  -- a ticket of another pipe
  T.raises("TransferError", "ticket", d.recv, d)
  a:close(); b:close()
end)

T.test("wrong argument types are ArgumentErrors", function()
  local a, b = pipe.Pipe()
  T.raises("ArgumentError", pipe.Pipe, "yes")
  T.raises("ArgumentError", a.send, a)
  T.raises("ArgumentError", a.recv, a, "soon")
  T.raises("ArgumentError", a.recv, a, -1)
  T.raises("ArgumentError", a.poll, a, {})
  T.raises("ArgumentError", a.send_bytes, a, {})
  T.raises("ArgumentError", a.recv_bytes, a, -1)
  T.raises("ArgumentError", a.recv_bytes, a, "long")
  T.raises("ArgumentError", a.recv, {})
  T.raises("ArgumentError", a.send, queue.Queue(), 1)
  T.raises("ArgumentError", pipe.wait, "conns")
  T.raises("ArgumentError", pipe.wait, {})
  T.raises("ArgumentError", pipe.wait, {a, 42})
  T.raises("ArgumentError", pipe.wait, {a}, -1)
  T.raises("ArgumentError", pipe.open, "/tmp/x", "rw")
  T.raises("ArgumentError", pipe.open, nil, "r")
  T.raises("ArgumentError", pipe.fifo, {})
  a:send("fine"); T.eq(b:recv(), "fine")
end)

-- ---- threads ------------------------------------------------------------

T.test("a connection passed to a thread and captured as an upvalue works there", function()
  local a, b = pipe.Pipe()
  local t = thread.spawn(function(c) c:send("from the thread") return c:recv() end, b)
  T.eq(a:recv(), "from the thread")
  a:send("to the thread"); T.eq(t:join(), "to the thread")
  local t2 = thread.spawn(function() b:send("upvalue") end)
  T.eq(a:recv(), "upvalue"); t2:join()
  T.falsy(b.closed, "the thread's handle going away leaves ours open")
end)

T.test("a connection sent through a pipe works at the other end", function()
  local a, b = pipe.Pipe()
  local c, d = pipe.Pipe()
  a:send({conn = d})
  local got = b:recv().conn
  c:send("through the sent connection"); T.eq(got:recv(), "through the sent connection")
end)

-- ---- processes (fork after the threads above have ended) -----------------

T.test("fork child exchange: hello, son / hello, father", function()
  local parent_end, child_end = pipe.Pipe()
  local pid = T.fork(function()
    parent_end:close()
    if child_end:recv() ~= "hello, son" then return 1 end
    child_end:send("hello, father")
    return 0
  end)
  child_end:close()
  parent_end:send("hello, son")
  T.eq(parent_end:recv(), "hello, father")
  T.eq(T.exit_code(pid), 0)
  T.raises("Closed", parent_end.recv, parent_end)
end)

T.test("a Lock, a Queue and a Value sent to a fork child work there", function()
  local a, b = pipe.Pipe()
  local pid = T.fork(function()
    local lock, q, v = b:recv()
    if not lock:acquire(5) then return 2 end   -- the parent released it for us
    v.value = v.value + 41
    q:put("child saw " .. v.value)
    lock:release()
    b:send("done", lock)
    return 0
  end)
  local lock, q, v = sync.Lock(), queue.Queue(), shared.Value("int", 1)
  lock:acquire()
  a:send(lock, q, v)
  lock:release()
  T.eq(q:get(), "child saw 42")
  local done, lock2 = a:recv()
  T.eq(done, "done"); T.truthy(lock2 == lock); T.falsy(lock:locked())
  T.eq(v.value, 42)
  T.eq(T.exit_code(pid), 0)
end)

T.test("a child and the parent both read one connection: each message exactly once", function()
  local a, b = pipe.Pipe()
  local results = queue.Queue()
  local N = 2000
  local pid = T.fork(function()
    local seen = {}
    while true do
      local v = b:recv()
      if v == "stop" then break end
      seen[#seen + 1] = v
    end
    results:put(seen)
    return 0
  end)
  for i = 1, N do a:send(i) end
  a:send("stop"); a:send("stop")
  local mine = {}
  while true do
    local v = b:recv()
    if v == "stop" then break end
    mine[#mine + 1] = v
  end
  T.eq(T.exit_code(pid), 0)
  local count, total = {}, 0
  for _, list in ipairs{mine, results:get()} do
    for _, v in ipairs(list) do count[v] = (count[v] or 0) + 1; total = total + 1 end
  end
  T.eq(total, N)
  for i = 1, N do if count[i] ~= 1 then T.eq(count[i], 1, "message " .. i) end end
end)

T.test("a connection made after the fork cannot be used by that child (clear error)", function()
  local a, b = pipe.Pipe()
  local pid = T.fork(function()
    local late = b:recv()
    local ok, err = pcall(late.send, late, "x")
    b:send(ok, err and err.kind, err and err.message)
    return 0
  end)
  local c, _ = pipe.Pipe()
  a:send(c)
  local ok, kind, msg = a:recv()
  T.falsy(ok); T.eq(kind, "InvalidState"); T.match(msg, "not open in this process")
  T.eq(T.exit_code(pid), 0)
end)

T.test("FIFOs: pipe.fifo + pipe.open between two processes; a gone reader is Closed, not SIGPIPE", function()
  local path = os.tmpname(); os.remove(path)
  pipe.fifo(path)
  T.raises("OSError", pipe.fifo, path)
  local pid = T.fork(function()
    local w = pipe.open(path, "w", 10)
    w:send({greeting = "hello over a fifo"})
    w:send_bytes("bytes too")
    w:close()
    return 0
  end)
  local r = pipe.open(path, "r")
  T.eq(r:recv(10).greeting, "hello over a fifo")
  T.eq(r:recv_bytes(), "bytes too")
  T.raises("Closed", r.recv, r, 10)
  T.eq(T.exit_code(pid), 0)
  r:close()
  T.raises("TransferError", "FIFO", function()
    local pid2 = T.fork(function() local r2 = pipe.open(path, "r"); r2:recv(10); return 0 end)
    local w = pipe.open(path, "w", 10)
    local ok, err = pcall(w.send, w, sync.Lock())
    w:send("bye"); w:close()
    T.eq(T.exit_code(pid2), 0)
    error(err)
  end)
  -- the reader goes away: the writer gets Closed and survives
  local ctl, ctl_child = pipe.Pipe()
  local pid3 = T.fork(function()
    local r3 = pipe.open(path, "r")
    ctl_child:send("open")
    ctl_child:recv()  -- the parent has its writer
    r3:close()
    return 0
  end)
  T.eq(ctl:recv(), "open")
  local w = pipe.open(path, "w", 10)
  ctl:send("close it")
  T.eq(T.exit_code(pid3), 0)
  T.raises("Closed", w.send, w, string.rep("x", 100000))
  T.raises("Timeout", pipe.open, path, "w", 0.05)
  T.raises("ArgumentError", "not a FIFO", function()
    local f = io.open(path .. ".plain", "w"); f:close()
    local ok, err = pcall(pipe.open, path .. ".plain", "r")
    os.remove(path .. ".plain")
    error(err)
  end)
  os.remove(path)
end)

T.test("scripts/examples/pipe_hello.lua prints the exchange", function()
  local src = os.getenv("TIDE_SOURCE_DIR") or "."
  local code, out, err = T.run_tide(src .. "/scripts/examples/pipe_hello.lua")
  T.eq(code, 0, "exit code (stderr: " .. err .. ")")
  T.eq(out, "child got: hello, son\nparent got: hello, father\nchild exited with 0\n")
end)

T.done()
