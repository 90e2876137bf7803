-- The runnable examples under scripts/examples/, output asserted.
local T = require "harness"
local root = os.getenv("TIDE_SOURCE_DIR") or "."

local function example(name, args)
  return T.run_tide(root .. "/scripts/examples/" .. name .. (args and (" " .. args) or ""))
end

T.test("parallel_sum: the split sum matches the sequential one", function()
  local code, out, err = example("parallel_sum.lua", "200000")
  T.eq(code, 0, err)
  T.match(out, "sum of i %% 7 for i = 1..200000: 599997 %(matches the sequential sum%)")
  T.match(out, "speedup x%d")
end)

T.test("readme_primes: the README example prints what it says", function()
  local code, out, err = example("readme_primes.lua")
  T.eq(code, 0, err)
  T.eq(out, "78498\nRemoteError\t7\n")
end)

T.test("readme_pool: the README's pool example prints what it says", function()
  local code, out, err = example("readme_pool.lua")
  T.eq(code, 0, err)
  T.eq(out, "1 4 9 16\n13\t42\n")
end)

T.test("readme_process_pool: the README's process pool example prints what it says", function()
  local code, out, err = example("readme_process_pool.lua")
  T.eq(code, 0, err)
  T.eq(out, "1 4 9 16\nfalse\tWorkerDied\tSIGKILL\nthe pool goes on\n")
end)

T.test("readme_fork: the README's fork example prints 2000", function()
  local code, out, err = example("readme_fork.lua")
  T.eq(code, 0, err)
  T.eq(out, "2000\n")
end)

T.test("xoscar_actor: the xoscar seed's actor, its hooks and calls in mailbox order", function()
  local code, out, err = example("xoscar_actor.lua")
  T.eq(code, 0, err)
  T.eq(out, table.concat({
    "post_create in a process of its own: args 1,2,1,2",
    "post_create in the spawner's process: args 3,4,5,6",
    "UniqueActorName\t6",
    "sugar\t33",
    "method_b\t80",
    "pre_destroy after 3 calls",
    "pre_destroy after 1 calls",
    "alive\tfalse", ""}, "\n"))
end)

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function sorted(t, from, to)
  local part = {table.unpack(t, from, to)}
  table.sort(part)
  return part
end

T.test("event_two_threads: both threads wait, then both are released", function()
  local code, out, err = example("event_two_threads.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 5)
  T.same(sorted(l, 1, 2), {"Thread 1 started. Waiting for the signal....",
                           "Thread 2 started. Waiting for the signal...."})
  T.eq(l[3], "Both threads are waiting; setting the event.")
  T.same(sorted(l, 4, 5), {"Received signal. The thread 1 was completed.",
                           "Received signal. The thread 2 was completed."})
end)

for _, kind in ipairs{"lock", "rlock"} do
  T.test("lock_add_sub (" .. kind .. "): 1000 adds and 1000 subtracts end at 0", function()
    local code, out, err = example("lock_add_sub.lua", kind)
    T.eq(code, 0, err)
    local l = lines(out)
    T.eq(#l, 11)
    T.eq(l[11], "Final value of shared_variable:\t0")
    T.same(sorted(l, 1, 10), {"thread-1\t1000", "thread-1\t200", "thread-1\t400", "thread-1\t600",
                              "thread-1\t800", "thread-2\t1000", "thread-2\t200", "thread-2\t400",
                              "thread-2\t600", "thread-2\t800"})
  end)
end

T.test("rlock_class: the owner re-enters its RLock, from the main thread and two threads", function()
  local code, out, err = example("rlock_class.lua")
  T.eq(code, 0, err)
  T.eq(out, "after changeAandB in the main thread:\t2\t4\nafter 200 more calls from two threads:\t202\n")
end)

T.test("condition_stages: stage 2 runs only after stage 1 is done", function()
  local code, out, err = example("condition_stages.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 4)
  T.eq(l[1], "Starting s1")
  T.eq(l[2], "s1 done and ready for stage 2")
  T.same(sorted(l, 3, 4), {"stage_2[1] running", "stage_2[2] running"})
end)

T.test("process_lock_value: two forked processes share a Value under a Lock", function()
  local code, out, err = example("process_lock_value.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 5)
  T.eq(l[5], "Final value of shared_variable:\t0")
  T.same(sorted(l, 1, 4), {"process-1\t1000", "process-1\t500", "process-2\t1000", "process-2\t500"})
end)

T.test("run_in_thread_pool: results in completion order, in about 7 units", function()
  local code, out, err = example("run_in_thread_pool.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.same({l[1], l[2], l[3], l[4], l[5]}, {"1\tthread_5", "3\tthread_2", "4\tthread_3", "5\tthread_4", "7\tthread_1"})
  local units = tonumber(l[6]:match("^total time: ([%d.]+) units$"))
  T.truthy(units and units >= 6.9 and units < 20, "concurrent, not sequential: " .. l[6])
end)

T.test("evaluate_item: the thread pool, the process pool and the loop compute the same ten values", function()
  local code, out, err = example("evaluate_item.lua", "20000")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 34)
  local expect = {}
  for k = 1, 10 do expect[k] = tostring(20000 * k) end
  local expect_sorted = {table.unpack(expect)}
  table.sort(expect_sorted)
  T.same(sorted(l, 1, 10), expect_sorted)
  T.match(l[11], "^Thread pool execution in [%d.]+ seconds$")
  T.same(sorted(l, 12, 21), expect_sorted)
  T.match(l[22], "^Process pool execution in [%d.]+ seconds$")
  T.same({table.unpack(l, 23, 32)}, expect)
  T.match(l[33], "^Sequential execution in [%d.]+ seconds$")
  T.match(l[34], "^Speedup on %d+ cores: thread pool x[%d.]+, process pool x[%d.]+$")
end)

-- The as_completed seed's output for n = 20000: the ten results 20000 * k
-- in any order, then "<kind> pool execution in S seconds".
local function as_completed_output(out, kind)
  local l = lines(out)
  T.eq(#l, 11)
  local expect = {}
  for k = 1, 10 do expect[k] = tostring(20000 * k) end
  table.sort(expect)
  T.same(sorted(l, 1, 10), expect)
  T.match(l[11], "^" .. kind .. " pool execution in [%d.]+ seconds$")
end

T.test("process_pool_as_completed: ten results as they complete, then the time", function()
  local code, out, err = example("process_pool_as_completed.lua", "20000")
  T.eq(code, 0, err)
  as_completed_output(out, "Process")
end)

T.test("cluster_as_completed: ten results from two tide workers over a real Redis, then the time", function()
  local cu = require "cluster_util"
  local redis <close> = cu.redis()
  local code, out, err = example("cluster_as_completed.lua", redis.url .. " 20000")
  T.eq(code, 0, err)
  as_completed_output(out, "Cluster")
end)

T.test("process_pool_demo: the multiprocessing.Pool seed's output", function()
  local code, out, err = example("process_pool_demo.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 18)
  T.eq(l[1], "0, 1, 4, 9, 16, 25, 36, 49, 64, 81")
  T.same(sorted(l, 2, 11), {"0", "1", "16", "25", "36", "4", "49", "64", "81", "9"})
  T.eq(l[12], "400")
  T.eq(l[13], "callback got\t900")
  T.match(l[14], "^%d+$")
  T.match(l[15], "^%d+, %d+, %d+, %d+$")
  T.eq(l[16], "We lacked patience and got a Timeout")
  T.eq(l[17], "For the moment, the pool remains available for more work")
  T.eq(l[18], "Now the pool is closed and no longer available")
end)

T.test("return_after_5_secs: 1, the five results as they complete, 2", function()
  local code, out, err = example("return_after_5_secs.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 7); T.eq(l[1], "1"); T.eq(l[7], "2")
  T.same(sorted(l, 2, 6), {"Return of 0", "Return of 1", "Return of 2", "Return of 3", "Return of 4"})
end)

T.test("pool_close: leaving a <close> block waits for the pool's tasks", function()
  local code, out, err = example("pool_close.lua")
  T.eq(code, 0, err)
  T.eq(out, "1\ttrue\t1\n2\ttrue\t4\n3\ttrue\t9\n4\ttrue\t16\nfalse\tthe block fails\tfinished anyway\n")
end)

T.done()
