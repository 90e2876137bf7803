---@meta tide.sync

local tide = {}

---Synchronisation primitives that work across threads and processes alike (they live in shared memory). If a holder of a Lock or RLock dies, the next `acquire` raises `AbandonedLock` and the caller then holds the lock.
---@class tide.sync
tide.sync = {}

---A mutual-exclusion lock, owned by a process: any thread of the owning process may release it (as in Python). Handles of one lock are equal (`==`).
---@class tide.sync.Lock
local Lock = {}

---A re-entrant lock: its owner (a tide thread) may acquire it again; each acquire needs a release.
---@class tide.sync.RLock
local RLock = {}

---A condition variable over a Lock or RLock (Python's `threading.Condition`).
---@class tide.sync.Condition
local Condition = {}

---A counting semaphore.
---@class tide.sync.Semaphore
local Semaphore = {}

---A semaphore whose `release` above its initial value raises `InvalidState`.
---@class tide.sync.BoundedSemaphore: tide.sync.Semaphore
local BoundedSemaphore = {}

---A flag threads and processes can wait for.
---@class tide.sync.Event
local Event = {}

---A barrier for a fixed number of parties (Python's `threading.Barrier`).
---@class tide.sync.Barrier
---@field parties integer The number of parties needed to pass.
---@field n_waiting integer The number of parties waiting now.
---@field broken boolean Whether the barrier is broken (aborted, or a wait timed out).
local Barrier = {}

---A to-be-closed value holding a lock (from `lock:guard()`): `local g <close> = lock:guard()`.
---@class tide.sync.Guard
local Guard = {}

---Creates a Lock.
---@return tide.sync.Lock lock A new, unlocked lock.
function tide.sync.Lock() end

---Creates an RLock.
---@return tide.sync.RLock lock A new, unlocked re-entrant lock.
function tide.sync.RLock() end

---Creates a Condition.
---@param lock? tide.sync.Lock|tide.sync.RLock The lock it uses; a new RLock when nil.
---@return tide.sync.Condition cond The new condition.
function tide.sync.Condition(lock) end

---Creates a Semaphore.
---@param value? integer The initial value, >= 0 (default 1).
---@return tide.sync.Semaphore sem The new semaphore.
function tide.sync.Semaphore(value) end

---Creates a BoundedSemaphore.
---@param value? integer The initial value and upper bound, >= 0 (default 1).
---@return tide.sync.BoundedSemaphore sem The new semaphore.
function tide.sync.BoundedSemaphore(value) end

---Creates an Event, initially clear.
---@return tide.sync.Event event The new event.
function tide.sync.Event() end

---Creates a Barrier.
---@param parties integer How many parties must call `wait` before all pass, >= 1.
---@param action? function Called (with no arguments) by the last party to arrive, before the others are released; copied like a thread's function.
---@param timeout? number The default timeout of `wait`, in seconds.
---@return tide.sync.Barrier barrier The new barrier.
function tide.sync.Barrier(parties, action, timeout) end

---Acquires the lock. Raises `AbandonedLock` (the caller then holds it) if its holder died.
---@param timeout? number Seconds to wait (0: do not block); forever when nil. Python's `acquire(blocking, [timeout])` form works too.
---@return boolean acquired True when acquired, false on timeout.
---@overload fun(self: tide.sync.Lock, blocking: boolean, timeout?: number): boolean
function Lock:acquire(timeout) end

---Releases the lock; raises `InvalidState` if it is not locked.
function Lock:release() end

---Whether the lock is held by anyone.
---@return boolean locked True when held.
function Lock:locked() end

---Runs `fn(...)` holding the lock and returns its results; the lock is released however `fn` ends.
---@param fn function The function to run.
---@param ... any Arguments for `fn`.
---@return any ... The results of `fn`.
function Lock:with(fn, ...) end

---Acquires the lock and returns a to-be-closed guard that releases it.
---@return tide.sync.Guard guard Releases the lock when closed.
function Lock:guard() end

---Acquires the lock (again, if the caller owns it). Raises `AbandonedLock` (the caller then holds it) if its owner died.
---@param timeout? number Seconds to wait (0: do not block); forever when nil. Python's `acquire(blocking, [timeout])` form works too.
---@return boolean acquired True when acquired, false on timeout.
---@overload fun(self: tide.sync.RLock, blocking: boolean, timeout?: number): boolean
function RLock:acquire(timeout) end

---Releases one level of ownership; raises `InvalidState` when the caller does not own it.
function RLock:release() end

---Whether the lock is held by anyone.
---@return boolean locked True when held.
function RLock:locked() end

---Runs `fn(...)` holding the lock and returns its results; the lock is released however `fn` ends.
---@param fn function The function to run.
---@param ... any Arguments for `fn`.
---@return any ... The results of `fn`.
function RLock:with(fn, ...) end

---Acquires the lock and returns a to-be-closed guard that releases it.
---@return tide.sync.Guard guard Releases the lock when closed.
function RLock:guard() end

---Acquires the condition's lock.
---@param timeout? number Seconds to wait (0: do not block); forever when nil. Python's `acquire(blocking, [timeout])` form works too.
---@return boolean acquired True when acquired, false on timeout.
---@overload fun(self: tide.sync.Condition, blocking: boolean, timeout?: number): boolean
function Condition:acquire(timeout) end

---Releases the condition's lock.
function Condition:release() end

---Releases the lock, waits for a notify, and takes the lock again. Raises `InvalidState` when the caller does not hold the lock.
---@param timeout? number Seconds to wait; forever when nil.
---@return boolean notified False when the timeout passed first.
function Condition:wait(timeout) end

---Waits until `pred()` returns a true value, calling it before each wait (the lock must be held).
---@param pred fun(): any The predicate.
---@param timeout? number Seconds to wait in all; forever when nil.
---@return any result The predicate's last result (false or nil on timeout).
function Condition:wait_for(pred, timeout) end

---Wakes up to `n` waiters.
---@param n? integer How many, >= 0 (default 1).
function Condition:notify(n) end

---Wakes every waiter.
function Condition:notify_all() end

---Runs `fn(...)` holding the condition's lock and returns its results; released however `fn` ends.
---@param fn function The function to run.
---@param ... any Arguments for `fn`.
---@return any ... The results of `fn`.
function Condition:with(fn, ...) end

---Acquires the condition's lock and returns a to-be-closed guard that releases it.
---@return tide.sync.Guard guard Releases the lock when closed.
function Condition:guard() end

---Decrements the semaphore, waiting while it is zero.
---@param timeout? number Seconds to wait (0: do not block); forever when nil. Python's `acquire(blocking, [timeout])` form works too.
---@return boolean acquired True when acquired, false on timeout.
---@overload fun(self: tide.sync.Semaphore, blocking: boolean, timeout?: number): boolean
function Semaphore:acquire(timeout) end

---Increments the semaphore by `n`, waking waiters. A BoundedSemaphore raises `InvalidState` past its initial value.
---@param n? integer How much, >= 1 (default 1).
function Semaphore:release(n) end

---Runs `fn(...)` holding one unit of the semaphore and returns its results; released however `fn` ends.
---@param fn function The function to run.
---@param ... any Arguments for `fn`.
---@return any ... The results of `fn`.
function Semaphore:with(fn, ...) end

---Acquires one unit and returns a to-be-closed guard that releases it.
---@return tide.sync.Guard guard Releases the unit when closed.
function Semaphore:guard() end

---Sets the flag, waking every waiter.
function Event:set() end

---Clears the flag.
function Event:clear() end

---Whether the flag is set.
---@return boolean set True when set.
function Event:is_set() end

---Waits until the flag is set.
---@param timeout? number Seconds to wait; forever when nil.
---@return boolean set True when set, false on timeout.
function Event:wait(timeout) end

---Waits until all parties have called `wait`. Raises `BrokenBarrier` if the barrier is or becomes broken (abort, reset, a timeout: a timeout breaks it), and the action's error if the action raised.
---@param timeout? number Seconds to wait; the barrier's default timeout when nil.
---@return integer index A different index in `0..parties-1` for each party.
function Barrier:wait(timeout) end

---Returns the barrier to its initial state; parties waiting now get `BrokenBarrier`.
function Barrier:reset() end

---Breaks the barrier: current and later waiters get `BrokenBarrier` until `reset()`.
function Barrier:abort() end

---Releases what the guard holds now (closing it later does nothing).
function Guard:release() end

return tide.sync
