-- A process forked inside a worker thread went back to the parent's
-- warm-thread cache when the thread's function returned: it lingered 5 s,
-- or hung for good on a mutex another parent thread held at fork time.
local T = require "harness"
local thread = require "tide.thread"
local os_ = require "tide.os"

-- Concurrent in every build: under ASan too, since tide locks GCC 12's
-- libasan allocator around fork() (host/core/asan_fork.cpp).
local concurrent = true

T.test("children forked in worker threads exit when the thread function returns", function()
  local busy = concurrent and thread.spawn(function()   -- keeps the parent's cache mutex busy
    local th = require "tide.thread"
    for _ = 1, 300 do th.spawn(function() end):join() end
  end)
  local forkers = {}
  for i = 1, 10 do
    forkers[i] = thread.spawn(function()
      local pid = require("tide.os").fork()
      return pid   -- the child returns 0 here and must then exit
    end)
    if not concurrent then forkers[i]:wait() end
  end
  for i = 1, 10 do
    local pid = forkers[i]:join()
    if pid ~= 0 then
      local got, status = os_.waitpid(pid, 0)
      T.eq(got, pid)
      T.eq(os_.waitstatus_to_exitcode(status), 0)
    end
  end
  if busy then busy:join() end
end)

T.done()
