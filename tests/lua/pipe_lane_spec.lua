-- tide.pipe's shared-memory lane (host/pipe/lane.hpp): a Pipe()'s small
-- messages go through the arena, big ones and those sent while the lane is
-- full through the socket. These check what a user can see of that: one
-- order whatever the mix, every kind of wait woken by a lane message and
-- never fooled by the wake-up frames, the end of the stream after lane
-- messages, and a reader that is gone. Ordered with events and
-- wait_blocked, never with sleeps.
local T = require "harness"
local tide = require "tide"
local pipe = require "tide.pipe"
local thread = require "tide.thread"
local sync = require "tide.sync"
local os_ = require "tide.os"
local async = require "tide.async"

-- Message i of a mixed stream: small (the lane) or, every 7th, too big for
-- it (the socket); long runs of small ones also fill the lane, so some
-- small ones take the socket too.
local function message(i)
  if i % 7 == 0 then return string.rep(string.char(65 + i % 26), 20000 + i) end
  return i
end
local function check(i, got)
  local want = message(i)
  if got ~= want then
    error(string.format("message %d: got %s", i, type(got) == "string" and #got .. " bytes" or tostring(got)), 2)
  end
end

T.test("a mixed stream of small and big messages arrives in order (threads)", function()
  local a, b = pipe.Pipe()
  local N = 3000
  local t = thread.spawn(function(c, n)
    for i = 1, n do c:send(message(i)) end
  end, a, N)
  for i = 1, N do check(i, b:recv(10)) end
  t:join()
  T.falsy(b:poll(), "nothing left")
end)

T.test("a mixed stream arrives in order from a fork child; two senders never interleave", function()
  local a, b = pipe.Pipe()
  local go = sync.Event()
  local pid = T.fork(function()
    go:wait()
    for i = 1, 2000 do a:send(message(i)) end
    return 0
  end)
  -- a second sender, a thread here: its messages are tables, the child's not
  local t = thread.spawn(function(c, e)
    e:wait()
    for i = 1, 2000 do c:send({i}) end
  end, a, go)
  go:set()
  local next_child, next_thread = 1, 1
  for _ = 1, 4000 do
    local m = b:recv(20)
    if type(m) == "table" then
      T.eq(m[1], next_thread); next_thread = next_thread + 1
    else
      check(next_child, m); next_child = next_child + 1
    end
  end
  T.eq(T.exit_code(pid), 0)
  t:join()
  T.eq(next_child, 2001); T.eq(next_thread, 2001)
end)

-- A thread blocked in `wait(b)` (asleep in the kernel) and a small message
-- sent afterwards: the wait must end with it.
local function wakes(name, wait)
  T.test(name .. " asleep is woken by a small message", function()
    local a, b = pipe.Pipe()
    local t = thread.spawn(wait, b)
    T.wait_blocked(t)
    a:send("small")
    T.eq(t:join(), "small")
  end)
end
wakes("recv", function(b) return b:recv(30) end)
wakes("poll", function(b) assert(b:poll(30), "poll timed out") return b:recv(0) end)
wakes("pipe.wait", function(b)
  local ready = pipe.wait({b}, 30)
  assert(#ready == 1, "pipe.wait timed out")
  return ready[1]:recv(0)
end)

T.test("a wake-up frame alone is not a message: poll and pipe.wait say so", function()
  local a, b = pipe.Pipe()
  -- a reader that went to sleep leaves a Wake frame on the socket after it
  -- took the message from the lane
  local t = thread.spawn(function(c) return c:recv(30) end, b)
  T.wait_blocked(t)
  a:send(1)
  T.eq(t:join(), 1)
  T.falsy(b:poll(0)); T.falsy(b:poll(0.01))
  T.eq(#pipe.wait({b}, 0), 0); T.eq(#pipe.wait({b}, 0.01), 0)
  T.raises("Timeout", b.recv, b, 0)
  a:send(2)
  T.truthy(b:poll(0)); T.eq(#pipe.wait({b}, 0), 1); T.eq(b:recv(0), 2)
end)

T.test("async.recv and async.readable see lane messages", function()
  local a, b = pipe.Pipe()
  async.run(function()
    T.falsy(async.readable(b, 0.01))
    local sender = thread.spawn(function(c) c:send("one"); c:send("two") end, a)
    T.eq(async.recv(b, 30), "one")
    T.truthy(async.readable(b, 30))
    T.eq(b:recv(0), "two")
    async.await(sender)
  end)
end)

T.test("the end of the stream comes after everything the lane holds", function()
  local a, b = pipe.Pipe()
  local pid = T.fork(function()
    for i = 1, 500 do a:send(i) end
    return 0  -- exits without closing: the kernel closes its end
  end)
  a:close()
  T.eq(T.exit_code(pid), 0)
  for i = 1, 500 do T.eq(b:recv(10), i) end
  T.raises("Closed", b.recv, b, 10)
end)

T.test("a send to a reader that is gone raises Closed: closed here, or its process killed", function()
  local a, b = pipe.Pipe()
  b:close()
  T.raises("Closed", a.send, a, "nobody reads this")
  local r, w = pipe.Pipe(false)
  w:send("read")
  T.eq(r:recv(0), "read")
  r:close()
  T.raises("Closed", w.send, w, "nobody reads this either")
  -- the only reader is a killed fork child: Closed within a bounded number of sends
  local c, d = pipe.Pipe()
  local pid = T.fork(function()
    c:close()
    d:send("ready")
    sync.Event():wait()
  end)
  d:close()
  T.eq(c:recv(10), "ready")
  os_.kill(pid, "SIGKILL")
  T.eq(T.exit_code(pid), -9)
  local deadline = tide.monotonic() + 10
  local ok, err
  repeat
    ok, err = pcall(c.send, c, "into the void")
  until not ok or tide.monotonic() > deadline
  T.falsy(ok, "still sending after 10 s")
  T.eq(err.kind, "Closed")
end)

T.test("a sender killed mid-stream: the reader gets an unbroken prefix, then the end", function()
  for trial = 1, 20 do
    local a, b = pipe.Pipe()
    local pid = T.fork(function()
      b:close()
      local i = 0
      while true do i = i + 1; a:send(message(i)) end
    end)
    a:close()
    local first = 1 + (trial * 37) % 300
    for i = 1, first do check(i, b:recv(10)) end
    os_.kill(pid, "SIGKILL")
    T.eq(T.exit_code(pid), -9)
    -- what it sent before it died, in order; then Closed, or TransferError
    -- if it died inside a big message on the socket
    local i = first
    while true do
      local ok, m = pcall(b.recv, b, 10)
      if not ok then
        T.truthy(m.kind == "Closed" or (m.kind == "TransferError" and m.message:find("truncated")), tostring(m))
        break
      end
      i = i + 1
      check(i, m)
    end
  end
end)

T.done()
