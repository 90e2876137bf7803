---@meta tide.queue

local tide = {}

---Queues shared by threads and processes: every item put is got exactly once. Items are copied (any transferable value except nil).
---@class tide.queue
tide.queue = {}

---A first-in, first-out queue, optionally bounded. Handles of one queue are equal (`==`).
---@class tide.queue.Queue
local Queue = {}

---A last-in, first-out queue (a stack); the methods of Queue.
---@class tide.queue.LifoQueue: tide.queue.Queue
local LifoQueue = {}

---A queue that hands out the lowest item first: numbers and strings in their natural order, array tables lexicographically (`{priority, data}`, like Python tuples); equal priorities leave in insertion order. The methods of Queue.
---@class tide.queue.PriorityQueue: tide.queue.Queue
local PriorityQueue = {}

---An unbounded FIFO queue without task tracking (no `full`, `task_done` or `join`, as in Python).
---@class tide.queue.SimpleQueue
local SimpleQueue = {}

---Creates a FIFO queue.
---@param maxsize? integer The most items it holds; 0 or nil: unbounded.
---@return tide.queue.Queue q The new queue.
function tide.queue.Queue(maxsize) end

---Creates a LIFO queue.
---@param maxsize? integer The most items it holds; 0 or nil: unbounded.
---@return tide.queue.LifoQueue q The new queue.
function tide.queue.LifoQueue(maxsize) end

---Creates a priority queue.
---@param maxsize? integer The most items it holds; 0 or nil: unbounded.
---@return tide.queue.PriorityQueue q The new queue.
function tide.queue.PriorityQueue(maxsize) end

---Creates an unbounded simple queue.
---@return tide.queue.SimpleQueue q The new queue.
function tide.queue.SimpleQueue() end

---Gets an item from whichever of `queues` has one first. Raises `Timeout` if none has one in time, `Closed` when every queue is closed and drained.
---@param queues (tide.queue.Queue|tide.queue.SimpleQueue)[] A non-empty array of queues of any kind.
---@param timeout? number Seconds to wait; forever when nil.
---@return tide.queue.Queue|tide.queue.SimpleQueue q The queue the item came from (the object in the list).
---@return any item The item.
function tide.queue.select(queues, timeout) end

---Puts an item, waiting for room in a bounded queue. Raises `Full` on timeout, `Closed` after `close()`, `ArgumentError` for nil.
---@param item any The item (not nil), copied into the queue.
---@param timeout? number Seconds to wait for room; forever when nil.
function Queue:put(item, timeout) end

---Puts an item without waiting; raises `Full` when there is no room.
---@param item any The item (not nil).
function Queue:put_nowait(item) end

---Removes and returns an item, waiting for one. Raises `Empty` on timeout, `Closed` once the queue is closed and drained.
---@param timeout? number Seconds to wait; forever when nil.
---@return any item The item.
function Queue:get(timeout) end

---Removes and returns an item without waiting; raises `Empty` when there is none, `Closed` once closed and drained.
---@return any item The item.
function Queue:get_nowait() end

---Puts every item of `list` (1..#list), in order, under one lock. Raises `Full` if not all fit in time (saying how many were put).
---@param list any[] The items (no nil).
---@param timeout? number Seconds to wait for room; forever when nil.
function Queue:put_many(list, timeout) end

---Removes up to `max` items at once, waiting for at least one. Raises like `get`.
---@param max integer The most items to take, >= 1.
---@param timeout? number Seconds to wait for the first item; forever when nil.
---@return any[] items Between 1 and `max` items, in queue order.
function Queue:get_many(max, timeout) end

---The number of items in the queue now.
---@return integer n The number of items.
function Queue:qsize() end

---Whether the queue is empty now.
---@return boolean empty True when it holds no item.
function Queue:empty() end

---Whether a bounded queue is full now (never for an unbounded one).
---@return boolean full True when there is no room.
function Queue:full() end

---Marks one item got earlier as processed (for `join`); raises `InvalidState` when called more often than items were put.
function Queue:task_done() end

---Waits until every item put has been marked with `task_done`. Raises `Timeout` when not done in time.
---@param timeout? number Seconds to wait; forever when nil.
function Queue:join(timeout) end

---Closes the queue: later `put`s raise `Closed`; `get` drains what is left, then raises `Closed`.
function Queue:close() end

---Whether the queue has been closed.
---@return boolean closed True after `close()`.
function Queue:is_closed() end

---An iterator over the items: `for item in q:iter() do ... end` ends when the queue is closed and drained.
---@return fun(): any iterator Returns the next item, or nil at the end.
function Queue:iter() end

---Puts an item (never waits: the queue is unbounded). Raises `Closed` after `close()`, `ArgumentError` for nil.
---@param item any The item (not nil).
---@param timeout? number Accepted for symmetry with Queue; never needed.
function SimpleQueue:put(item, timeout) end

---Puts an item (same as `put`).
---@param item any The item (not nil).
function SimpleQueue:put_nowait(item) end

---Removes and returns an item, waiting for one. Raises `Empty` on timeout, `Closed` once closed and drained.
---@param timeout? number Seconds to wait; forever when nil.
---@return any item The item.
function SimpleQueue:get(timeout) end

---Removes and returns an item without waiting; raises `Empty` when there is none, `Closed` once closed and drained.
---@return any item The item.
function SimpleQueue:get_nowait() end

---Puts every item of `list`, in order, under one lock.
---@param list any[] The items (no nil).
---@param timeout? number Accepted for symmetry with Queue; never needed.
function SimpleQueue:put_many(list, timeout) end

---Removes up to `max` items at once, waiting for at least one. Raises like `get`.
---@param max integer The most items to take, >= 1.
---@param timeout? number Seconds to wait for the first item; forever when nil.
---@return any[] items Between 1 and `max` items, in queue order.
function SimpleQueue:get_many(max, timeout) end

---The number of items in the queue now.
---@return integer n The number of items.
function SimpleQueue:qsize() end

---Whether the queue is empty now.
---@return boolean empty True when it holds no item.
function SimpleQueue:empty() end

---Closes the queue: later `put`s raise `Closed`; `get` drains what is left, then raises `Closed`.
function SimpleQueue:close() end

---Whether the queue has been closed.
---@return boolean closed True after `close()`.
function SimpleQueue:is_closed() end

---An iterator over the items: `for item in q:iter() do ... end` ends when the queue is closed and drained.
---@return fun(): any iterator Returns the next item, or nil at the end.
function SimpleQueue:iter() end

return tide.queue
