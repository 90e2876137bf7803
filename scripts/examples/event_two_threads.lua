-- Port of the Event seed: two threads wait for an event; the main thread
-- releases both with set(). The seed slept 3 s so the threads could start;
-- here a Barrier makes sure they are waiting before the main thread goes on.
local thread = require "tide.thread"
local sync = require "tide.sync"

local function task(event, started, id)
  print(string.format("Thread %d started. Waiting for the signal....", id))
  started:wait()
  event:wait()
  print(string.format("Received signal. The thread %d was completed.", id))
end

local event = sync.Event()               -- not set at first
local started = sync.Barrier(3)
local t1 = thread.Thread{target = task, args = {event, started, 1}}
local t2 = thread.Thread{target = task, args = {event, started, 2}}
t1:start()
t2:start()
started:wait()
print("Both threads are waiting; setting the event.")
event:set()
t1:join()
t2:join()
