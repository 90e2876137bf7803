---@meta tide.async

local tide = {}

---Coroutines as tasks on an event loop that awaits everything tide makes (pool, thread and process futures, threads, processes, queues, pipes, descriptors) without blocking the other tasks. Inside a task every async function and every method of an async object that has to wait suspends the task and returns its result directly; `async.await` is for Tasks, Futures, Threads, Processes and lists of them. Each Lua state (each thread) runs its own loop, one at a time. Async objects (Task, Queue, Event, Lock, Semaphore, Condition, Loop) belong to the Lua state that made them: they cannot be sent to another thread or process.
---@class tide.async
---@field subprocess tide.async.subprocess `tide.subprocess`'s run, check_output and Popen, awaited (also `require "tide.async.subprocess"`).
tide.async = {}

---The options of `async.gather(list, opts)`.
---@class tide.async.GatherOptions
---@field return_exceptions? boolean Put the error of a failed item into the results instead of raising the first error (default false).

---Anything `async.await` takes: a Task, a tide Future (pools, `future.new()`), a Thread or a Process.
---@alias tide.async.Awaitable tide.async.Task|tide.future.Future|tide.thread.Thread|tide.process.Process

---An item of `gather`, `as_completed` or `wait_for`: an awaitable, or a function run as a new task.
---@alias tide.async.Item tide.async.Awaitable|fun(): ...

---A task: a function running as a coroutine of a loop (a Future of that loop: `result`, `done`, `cancel`, `add_done_callback`).
---@class tide.async.Task
---@field name string The task's name (`"Task-N"` unless set with `set_name`).
local Task = {}

---An event loop, from `async.new_loop()` (for a loop stepped from outside) or `async.loop()`.
---@class tide.async.Loop
local Loop = {}

---A timeout scope, from `async.timeout(s)`: `local scope <close> = async.timeout(s)`.
---@class tide.async.Timeout
local Timeout = {}

---An async generator, from `async.iter(fn, ...)`.
---@class tide.async.Iter
local Iter = {}

---A FIFO queue between the tasks of one loop (asyncio's `Queue`).
---@class tide.async.Queue
local Queue = {}

---A flag tasks can wait for.
---@class tide.async.Event
local Event = {}

---A lock between tasks (not owned: any task may release it, as in asyncio).
---@class tide.async.Lock
local Lock = {}

---A counting semaphore between tasks.
---@class tide.async.Semaphore
local Semaphore = {}

---A semaphore whose `release` beyond what was acquired raises `InvalidState`.
---@class tide.async.BoundedSemaphore: tide.async.Semaphore
local BoundedSemaphore = {}

---A condition variable over an async Lock.
---@class tide.async.Condition
local Condition = {}

---A to-be-closed value holding a Lock, Semaphore or Condition (from `guard()`): `local g <close> = lock:guard()`.
---@class tide.async.Guard
local Guard = {}

-- ---------------------------------------------------------------- the loop

---Runs `fn(...)` as the main task of a new loop in this Lua state and returns its results (or raises its error). When it returns, the tasks still running are cancelled and unwind. Raises `InvalidState` when a loop already runs in this state (nested `async.run`), or when every task waits and nothing can ever wake one (a deadlock). Ctrl-C cancels every task and raises `Interrupted`; cancelling the thread that runs it cancels every task and raises `Cancelled`.
---@param fn fun(...): ... The main task's function.
---@param ... any Its arguments.
---@return any ... The main task's results.
function tide.async.run(fn, ...) end

---Starts `fn(...)` as a task of the running loop (it runs from the loop's next turn). Raises `InvalidState` outside a running loop (use `loop:spawn`).
---@param fn fun(...): ... The task's function.
---@param ... any Its arguments.
---@return tide.async.Task task The new task.
function tide.async.spawn(fn, ...) end

---The same as `async.spawn` (asyncio's name).
---@param fn fun(...): ... The task's function.
---@param ... any Its arguments.
---@return tide.async.Task task The new task.
function tide.async.create_task(fn, ...) end

---A new loop, for a host that steps it from its own frame loop (`loop:step()`), or for `loop:run(fn)`.
---@return tide.async.Loop loop The loop.
function tide.async.new_loop() end

---This Lua state's own loop, made on first use: the one `tide::Host::pump()` steps in a C++ embedding (spawn tasks on it with `async.loop():spawn(fn)`).
---@return tide.async.Loop loop The state's default loop.
function tide.async.loop() end

---The task running now, or nil outside a task.
---@return tide.async.Task? task The running task.
function tide.async.current_task() end

---The loop running now in this Lua state, or nil.
---@return tide.async.Loop? loop The running loop.
function tide.async.get_loop() end

-- ---------------------------------------------------------------- awaiting

---Suspends the task until `x` is done and returns its results, or raises its error (a task's own error; `RemoteError`, `Cancelled`, `WorkerDied`... as `future:result()` / `thread:join()` / `process:join()` raise them). A list is gathered: `async.await({a, b})` is `async.gather({a, b})`. Cancelling the awaiting task cancels an awaited task or pending future (not threads or processes). Raises `ArgumentError` for anything else, `InvalidState` for a thread not started or a task of another loop.
---@param x tide.async.Awaitable|tide.async.Item[] What to await.
---@return any ... Its results (a list: an array of first results).
function tide.async.await(x) end

---Suspends the task for `s` seconds; `sleep(0)` (or no argument) lets every other ready task run first.
---@param s? number Seconds (>= 0).
function tide.async.sleep(s) end

---Awaits every item and returns the first result of each, in order (`results.n` is the count, nil results included). Without `return_exceptions` the first error raised (in time) is raised at once and the other items go on; with it, errors take their item's place. Functions become tasks. Cancelling the gathering task cancels its items that are tasks or pending futures.
---@param ... tide.async.Item Items, as separate arguments; or one list and an options table.
---@return any[] results The first result of each item (field `n`: their count).
function tide.async.gather(...) end

---Awaits `x` (a function becomes a task) for at most `timeout` seconds and returns its results; at the timeout a task is cancelled and waited for (it has unwound when `Timeout` is raised), a pending future is cancelled.
---@param x tide.async.Item What to await.
---@param timeout? number Seconds; forever when nil.
---@return any ... Its results.
function tide.async.wait_for(x, timeout) end

---An iterator over the items in the order they finish (done ones first); each yielded item is done, `async.await(item)` gives its results at once. Raises `Timeout` mid-iteration at the deadline.
---@param list tide.async.Item[] The items (functions become tasks).
---@param timeout? number Seconds from now for the whole iteration; forever when nil.
---@return fun(): tide.async.Awaitable? iterator Returns the next finished item, nil after the last.
function tide.async.as_completed(list, timeout) end

---A timeout scope for `local scope <close> = async.timeout(s)`: when `s` seconds pass, the task is cancelled at its await point inside the scope; leaving the scope turns that cancellation into `Timeout` (which `pcall` may catch), and the task goes on. Nested scopes each convert only their own cancellation.
---@param s? number Seconds from now; never when nil (see `reschedule`).
---@return tide.async.Timeout scope The scope (to be closed).
function tide.async.timeout(s) end

---Runs `fn(...)` on the default thread pool (`tide.pool.default()`) and awaits its results. The function is copied to the worker's Lua state as for any tide worker (bytecode and upvalues).
---@param fn fun(...): ... The function.
---@param ... any Its arguments (copied).
---@return any ... Its results.
function tide.async.to_thread(fn, ...) end

---An async generator: `fn(...)` runs in a coroutine of its own, produces values with `coroutine.yield(v)` and may await anything. `for v in async.iter(fn, ...) do` reads it (breaking out closes it: its `<close>` variables run); `it:next()` reads one value.
---@param fn fun(...) The generator.
---@param ... any Its arguments.
---@return tide.async.Iter it The generator (also its own iterator function and closing value).
function tide.async.iter(fn, ...) end

-- ---------------------------------------- other threads' and processes' objects

---Suspends the task until a tide.queue queue (any kind, fed by any thread or process) has an item, and returns it. Raises `Empty` at the timeout, `Closed` once the queue is closed and drained, `ArgumentError` for anything but a tide.queue queue.
---@param q tide.queue.Queue|tide.queue.LifoQueue|tide.queue.PriorityQueue|tide.queue.SimpleQueue The queue.
---@param timeout? number Seconds; forever when nil, 0 does not wait.
---@return any item The item.
function tide.async.get(q, timeout) end

---Puts an item into a tide.queue queue, suspending the task while a bounded queue is full. Raises `Full` at the timeout, `Closed` when the queue is closed.
---@param q tide.queue.Queue|tide.queue.LifoQueue|tide.queue.PriorityQueue|tide.queue.SimpleQueue The queue.
---@param item any The item (not nil; copied).
---@param timeout? number Seconds; forever when nil, 0 does not wait.
function tide.async.put(q, item, timeout) end

---Suspends the task until a tide.pipe connection has a message, and returns it. Raises `Closed` at end of stream, `Timeout` at the timeout.
---@param conn tide.pipe.Connection The connection (its reading end).
---@param timeout? number Seconds; forever when nil.
---@return any value The message.
function tide.async.recv(conn, timeout) end

---Suspends the task until a descriptor is readable (or at end of file, or in error). Takes a number, or an object with `fileno()` (tide.pipe connections) or `getfd()` (luasocket).
---@param fd integer|{fileno: fun(self): integer}|{getfd: fun(self): integer} The descriptor.
---@param timeout? number Seconds; forever when nil.
---@return boolean ready True when ready, false at the timeout. Raises `OSError` when the descriptor is not open.
function tide.async.readable(fd, timeout) end

---Suspends the task until a descriptor is writable (or in error). Takes what `readable` takes.
---@param fd integer|{fileno: fun(self): integer}|{getfd: fun(self): integer} The descriptor.
---@param timeout? number Seconds; forever when nil.
---@return boolean ready True when ready, false at the timeout.
function tide.async.writable(fd, timeout) end

---`tide.os.waitpid(pid)` without blocking the loop: suspends the task until the child exits (through a pidfd), reaps it and returns what `tide.os.waitpid` returns. Raises `Timeout` at the timeout (the child is left running), `OSError` when `pid` is not a child of this process, `ArgumentError` for a bad pid.
---@param pid integer The child's process id (from `tide.os.fork`).
---@param timeout? number Seconds; forever when nil.
---@return integer pid The child's process id.
---@return integer status Its wait status (see `tide.os.waitstatus_to_exitcode`).
function tide.async.waitpid(pid, timeout) end

-- ---------------------------------------------------------------- primitives

---A FIFO queue for the tasks of a loop. `put`/`get` suspend the task while full/empty; the `_nowait` forms and `close` work anywhere in the state.
---@param maxsize? integer Most items at once; 0 or nil: unbounded.
---@return tide.async.Queue q The queue.
function tide.async.Queue(maxsize) end

---A flag, initially clear.
---@return tide.async.Event ev The event.
function tide.async.Event() end

---A lock, initially unlocked.
---@return tide.async.Lock lock The lock.
function tide.async.Lock() end

---A counting semaphore.
---@param n? integer Its initial value (default 1).
---@return tide.async.Semaphore sem The semaphore.
function tide.async.Semaphore(n) end

---A semaphore that cannot be released beyond what was acquired.
---@param n? integer Its initial value (default 1).
---@return tide.async.BoundedSemaphore sem The semaphore.
function tide.async.BoundedSemaphore(n) end

---A condition variable.
---@param lock? tide.async.Lock Its lock; a new one when nil.
---@return tide.async.Condition cond The condition.
function tide.async.Condition(lock) end

-- ---------------------------------------------------------------- Task

---Whether the task has finished (completed, failed or cancelled).
---@return boolean done True when finished.
function Task:done() end

---Whether the task was cancelled (a `Cancelled` error ended it).
---@return boolean cancelled True when cancelled.
function Task:cancelled() end

---Requests the task's cancellation: `Cancelled` is raised in it at its await point (at its next await when it is running); `pcall` inside it cannot catch it, and every later await raises it at once. A task awaiting another task or a pending future cancels it too.
---@param msg? string The Cancelled error's message.
---@return boolean requested False when the task was already finished.
function Task:cancel(msg) end

---The task's results, or its error raised as is (`Cancelled` when cancelled). Inside a task of the same loop it waits for the task; elsewhere a task not done raises `InvalidState`.
---@param timeout? number Seconds to wait (inside a task); `Timeout` after.
---@return any ... The task's results.
function Task:result(timeout) end

---The error that ended the task, or nil when it completed; raises `Cancelled` when cancelled. Waits as `result` does.
---@param timeout? number Seconds to wait (inside a task).
---@return any err The error, nil on success.
function Task:exception(timeout) end

---Calls `fn(task)` at the loop's next turn after the task finished (the next turn if it has). Errors in `fn` are logged.
---@param fn fun(task: tide.async.Task) The callback.
function Task:add_done_callback(fn) end

---Removes every registration of `fn`.
---@param fn function The callback.
---@return integer removed How many were removed.
function Task:remove_done_callback(fn) end

---The task's name.
---@return string name The name.
function Task:get_name() end

---Renames the task.
---@param name string The new name.
function Task:set_name(name) end

---Where the task is.
---@return "pending"|"running"|"completed"|"failed"|"cancelled" status `pending` until it first runs, `running` until it finishes.
function Task:status() end

-- ---------------------------------------------------------------- Loop

---Starts `fn(...)` as a task of this loop (it runs at the loop's next turn or step). Raises `InvalidState` when the loop is closed.
---@param fn fun(...): ... The task's function.
---@param ... any Its arguments.
---@return tide.async.Task task The new task.
function Loop:spawn(fn, ...) end

---Runs `fn(...)` as this loop's main task until it finishes, as `async.run` does, and returns its results.
---@param fn fun(...): ... The main task's function.
---@param ... any Its arguments.
---@return any ... Its results.
function Loop:run(fn, ...) end

---One turn from outside (a host's frame loop): waits at most `max_seconds` (default 0: not at all) for something when no task is ready, then runs the tasks ready now. Raises `InvalidState` from inside one of its tasks, or when closed; `Interrupted` after Ctrl-C.
---@param max_seconds? number The longest it may wait.
---@return boolean more True while the loop has tasks not finished.
---@return integer ran How many tasks this step ran.
function Loop:step(max_seconds) end

---Cancels the loop's tasks, lets them unwind, logs errors nobody retrieved and releases the loop (idempotent; also `__close`).
function Loop:close() end

---The loop's tasks not finished.
---@return tide.async.Task[] tasks The tasks.
function Loop:tasks() end

---Whether this loop is running now (`run`, or inside `step`).
---@return boolean running True while running.
function Loop:is_running() end

---Whether the loop was closed.
---@return boolean closed True when closed.
function Loop:is_closed() end

---The loop's clock (`tide.monotonic()`).
---@return number seconds Seconds on the monotonic clock.
function Loop:time() end

-- ---------------------------------------------------------------- Timeout

---Whether the scope's time ran out.
---@return boolean expired True when it expired.
function Timeout:expired() end

---When the scope expires.
---@return number? at A `tide.monotonic()` time; nil when it never does.
function Timeout:when() end

---Sets a new deadline: `s` seconds from now, or never when nil. Raises `InvalidState` once expired or closed.
---@param s? number Seconds from now.
function Timeout:reschedule(s) end

-- ---------------------------------------------------------------- Iter

---The generator's next value (suspending the task while the generator awaits); nil after the last. Raises the generator's error.
---@return any value The value.
function Iter:next() end

---Closes the generator (its `<close>` variables run); later `next()` gives nil. Also `__close`.
function Iter:close() end

-- ---------------------------------------------------------------- Queue

---Puts an item, suspending the task while the queue is full. Raises `Full` at the timeout, `Closed` when closed, `ArgumentError` for nil.
---@param item any The item.
---@param timeout? number Seconds; forever when nil, 0 does not wait.
function Queue:put(item, timeout) end

---Puts an item without waiting: `Full` when full, `Closed` when closed.
---@param item any The item.
function Queue:put_nowait(item) end

---Takes the oldest item, suspending the task while the queue is empty. Raises `Empty` at the timeout, `Closed` once closed and drained.
---@param timeout? number Seconds; forever when nil, 0 does not wait.
---@return any item The item.
function Queue:get(timeout) end

---Takes an item without waiting: `Empty` when empty, `Closed` once closed and drained.
---@return any item The item.
function Queue:get_nowait() end

---The number of items.
---@return integer n Items in the queue.
function Queue:qsize() end

---Whether the queue has no item.
---@return boolean empty True when empty.
function Queue:empty() end

---Whether a bounded queue holds `maxsize` items.
---@return boolean full True when full.
function Queue:full() end

---Marks one item taken earlier as processed; raises `InvalidState` when more than were put.
function Queue:task_done() end

---Suspends the task until every item put was marked done.
---@param timeout? number Seconds; forever when nil.
---@return boolean done False at the timeout.
function Queue:join(timeout) end

---Closes the queue: later puts raise `Closed`, gets drain what is left then raise `Closed`; waiting tasks wake.
function Queue:close() end

---Whether the queue was closed.
---@return boolean closed True when closed.
function Queue:is_closed() end

---An iterator over the items, ending once the queue is closed and drained: `for item in q:iter() do`.
---@return fun(): any iterator Returns the next item (suspending while empty), nil at the end.
function Queue:iter() end

-- ---------------------------------------------------------------- Event

---Sets the flag and wakes every waiting task.
function Event:set() end

---Clears the flag.
function Event:clear() end

---Whether the flag is set.
---@return boolean set True when set.
function Event:is_set() end

---Suspends the task until the flag is set.
---@param timeout? number Seconds; forever when nil, 0 does not wait.
---@return boolean set True when set, false at the timeout.
function Event:wait(timeout) end

-- ---------------------------------------------------------------- Lock

---Takes the lock, suspending the task while another holds it (waiters are served in order).
---@param timeout? number Seconds; forever when nil, 0 does not wait.
---@return boolean acquired False at the timeout.
function Lock:acquire(timeout) end

---Releases the lock (handing it to the first waiter); raises `InvalidState` when unlocked.
function Lock:release() end

---Whether the lock is held.
---@return boolean locked True when held.
function Lock:locked() end

---Runs `fn(...)` holding the lock (released on error too) and returns its results.
---@param fn fun(...): ... The function.
---@param ... any Its arguments.
---@return any ... Its results.
function Lock:with(fn, ...) end

---Takes the lock and returns a to-be-closed value that releases it.
---@return tide.async.Guard guard The guard.
function Lock:guard() end

-- ---------------------------------------------------------------- Semaphore

---Takes one permit, suspending the task while none is left.
---@param timeout? number Seconds; forever when nil, 0 does not wait.
---@return boolean acquired False at the timeout.
function Semaphore:acquire(timeout) end

---Gives back `n` permits (handed to waiting tasks first). A BoundedSemaphore raises `InvalidState` beyond what was acquired.
---@param n? integer Permits (default 1).
function Semaphore:release(n) end

---Whether no permit is left.
---@return boolean locked True when `acquire` would wait.
function Semaphore:locked() end

---Runs `fn(...)` holding a permit and returns its results.
---@param fn fun(...): ... The function.
---@param ... any Its arguments.
---@return any ... Its results.
function Semaphore:with(fn, ...) end

---Takes a permit and returns a to-be-closed value that gives it back.
---@return tide.async.Guard guard The guard.
function Semaphore:guard() end

-- ---------------------------------------------------------------- Condition

---Takes the condition's lock.
---@param timeout? number Seconds; forever when nil.
---@return boolean acquired False at the timeout.
function Condition:acquire(timeout) end

---Releases the condition's lock.
function Condition:release() end

---Whether the condition's lock is held.
---@return boolean locked True when held.
function Condition:locked() end

---Releases the lock, suspends the task until notified, then takes the lock back (also when cancelled, before `Cancelled` is raised). Raises `InvalidState` when the lock is not held.
---@param timeout? number Seconds; forever when nil.
---@return boolean notified False at the timeout.
function Condition:wait(timeout) end

---Waits until `pred()` returns a true value.
---@param pred fun(): any The predicate (called with the lock held).
---@param timeout? number Seconds; forever when nil.
---@return any result The predicate's last value.
function Condition:wait_for(pred, timeout) end

---Wakes up to `n` waiting tasks; raises `InvalidState` when the lock is not held.
---@param n? integer How many (default 1).
function Condition:notify(n) end

---Wakes every waiting task; raises `InvalidState` when the lock is not held.
function Condition:notify_all() end

---Runs `fn(...)` holding the lock and returns its results.
---@param fn fun(...): ... The function.
---@param ... any Its arguments.
---@return any ... Its results.
function Condition:with(fn, ...) end

---Takes the lock and returns a to-be-closed value that releases it.
---@return tide.async.Guard guard The guard.
function Condition:guard() end

return tide.async
