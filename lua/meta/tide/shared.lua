---@meta tide.shared

local tide = {}

---Values, arrays and tables in shared memory, used unchanged by threads and child processes (Python's `multiprocessing.Value`/`Array`, plus a shared table).
---@class tide.shared
tide.shared = {}

---The element type of a Value or Array: `"int"` (int64; Python's `"i"`, `"l"`, `"q"`), `"double"` (`"d"`, `"f"`), `"bool"`, `"char"` (`"c"`, a one-byte string).
---@alias tide.shared.Type
---| "int" # A 64-bit integer (integral floats such as 3.0 are accepted).
---| "double" # A float (any number is accepted).
---| "bool" # A boolean (only booleans are accepted).
---| "char" # A one-byte string.
---| "i" # Same as "int".
---| "l" # Same as "int".
---| "q" # Same as "int".
---| "d" # Same as "double".
---| "f" # Same as "double".
---| "c" # Same as "char".

---The options of `shared.Value` and `shared.Array`.
---@class tide.shared.Options
---@field lock? boolean|tide.sync.Lock|tide.sync.RLock true or nil: a new RLock guards it (`get_lock()`); false: no lock; a Lock or RLock: that one.

---One typed value in shared memory. Handles of one Value are equal (`==`).
---@class tide.shared.Value
---@field value integer|number|boolean|string The value (read and assign; a wrong type raises `ArgumentError`).
---@field type "int"|"double"|"bool"|"char" The element type.
local Value = {}

---A fixed-size array of typed values in shared memory: `a[i]` (1-based; an index outside `1..#a` raises `ArgumentError`), `#a`, `pairs(a)`.
---@class tide.shared.Array
---@field type "int"|"double"|"bool"|"char" The element type.
---@field [integer] integer|number|boolean|string The elements, `a[1]` to `a[#a]`.
local Array = {}

---A table of transferable values shared by threads and processes: `t[k]`, `t[k] = v` (nil deletes), `#t` (the number of keys), `pairs(t)` (a snapshot). Keys are strings, numbers and booleans. Method names shadow keys of the same name under `t.k`; `get`/`set` reach any key.
---@class tide.shared.Table
---@field [string|number|boolean] any The values, by key.
local Table = {}

---Creates a shared Value.
---@param type tide.shared.Type The element type.
---@param init? integer|number|boolean|string The initial value (0, false or "\0" when nil).
---@param opts? tide.shared.Options Its lock.
---@return tide.shared.Value v The new value.
function tide.shared.Value(type, init, opts) end

---Creates a shared Array.
---@param type tide.shared.Type The element type.
---@param size_or_list integer|any[] The size (0 to 2^28, elements zeroed), or an array of initial elements.
---@param opts? tide.shared.Options Its lock.
---@return tide.shared.Array a The new array.
function tide.shared.Array(type, size_or_list, opts) end

---Creates an empty shared Table.
---@return tide.shared.Table t The new table.
function tide.shared.Table() end

---Adds `n` atomically (int and double Values only) and returns the new value.
---@param n number The amount to add (an integer for an int Value).
---@return number value The value after adding.
function Value:add(n) end

---Compare-and-swap: sets the value to `new` if it equals `old`, atomically.
---@param old integer|number|boolean|string The expected value.
---@param new integer|number|boolean|string The replacement.
---@return boolean swapped True when the value was `old` and is now `new`.
function Value:cas(old, new) end

---Read-modify-write under the Value's own lock: calls `fn(old)` holding `get_lock()`, stores its result and returns it. An error in `fn` releases the lock and propagates; a result of the wrong type raises `ArgumentError` (the value is unchanged); a Value made with `{lock=false}` raises `InvalidState`. `fn` may yield.
---@param fn fun(old: integer|number|boolean|string): integer|number|boolean|string Computes the new value from the old one.
---@return integer|number|boolean|string value The value stored.
function Value:update(fn) end

---The lock guarding the Value; raises `InvalidState` when made with `{lock=false}`.
---@return tide.sync.Lock|tide.sync.RLock lock Its lock (an RLock unless another was given).
function Value:get_lock() end

---The elements as a plain Lua array.
---@return any[] list A copy of the elements.
function Array:totable() end

---The lock guarding the Array; raises `InvalidState` when made with `{lock=false}`.
---@return tide.sync.Lock|tide.sync.RLock lock Its lock (an RLock unless another was given).
function Array:get_lock() end

---The value at key `k` (nil when absent); reaches keys that method names shadow.
---@param k string|number|boolean The key.
---@return any value A copy of the value.
function Table:get(k) end

---Sets key `k` to `v` (nil deletes it).
---@param k string|number|boolean The key.
---@param v any The value (copied).
function Table:set(k, v) end

---Atomically replaces `t[k]` by `fn(old)` and returns the new value. The table is locked while `fn` runs (`fn` may use it too).
---@param k string|number|boolean The key.
---@param fn fun(old: any): any Computes the new value from the old (nil when absent); returning nil deletes the key.
---@return any new The value stored.
function Table:update(k, fn) end

---An iterator over a snapshot of the table taken now: `for k, v in t:pairs() do ... end`.
---@return function next The iterator function (returns the next key and value).
---@return table snapshot The snapshot it walks.
function Table:pairs() end

---The number of keys.
---@return integer n The number of keys.
function Table:len() end

---Removes every key.
function Table:clear() end

return tide.shared
