-- The shared arena is an anonymous memfd: using it, even with a child
-- killed by SIGKILL, leaves nothing in /dev/shm, and it is mapped as
-- "memfd:tide-arena" rather than as a named file.
local T = require "harness"
local os_ = require "tide.os"
local queue = require "tide.queue"
local sync = require "tide.sync"

local function shm_entries()
  local p = assert(io.popen("ls -A /dev/shm 2>/dev/null"))
  local set = {}
  for name in p:lines() do set[name] = true end
  p:close()
  return set
end

T.test("shared objects used across processes leave nothing in /dev/shm", function()
  local before = shm_entries()
  local q = queue.Queue()
  local lock = sync.Lock()
  local pid = os_.fork()
  if pid == 0 then
    lock:acquire()
    q:put({"from child", os_.getpid()})
    os_.read(select(1, os_.pipe()), 1)   -- blocks until killed, holding the lock
    os_._exit(0)
  end
  local item = q:get()
  T.eq(item[1], "from child")
  os_.kill(pid, "SIGKILL")
  local _, status = os_.waitpid(pid, 0)
  T.eq(os_.waitstatus_to_exitcode(status), -9)
  T.raises("AbandonedLock", lock.acquire, lock)
  lock:release()
  for name in pairs(shm_entries()) do
    T.truthy(before[name], "new entry in /dev/shm: " .. name)
  end
end)

T.test("the arena is an anonymous memfd mapping", function()
  local f = assert(io.open("/proc/self/maps"))
  local maps = f:read("a")
  f:close()
  T.match(maps, "memfd:tide%-arena")
end)

T.done()
