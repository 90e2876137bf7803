---@meta tide.pipe

local tide = {}

---Message pipes between threads and processes (Python's `multiprocessing.Pipe`), and named pipes. Messages are framed and checksummed; a corrupt frame raises `TransferError` and closes the connection.
---@class tide.pipe
tide.pipe = {}

---One end of a pipe. Use after `close()` raises `InvalidState`; the peer being gone raises `Closed`. Closing it (`<close>`) closes the end.
---@class tide.pipe.Connection
---@field closed boolean Whether this end was closed.
---@field readable boolean Whether this end can receive.
---@field writable boolean Whether this end can send.
local Connection = {}

---Creates a connected pair of connections.
---@param duplex? boolean Both ends send and receive (default true); false: `a` only receives, `b` only sends.
---@return tide.pipe.Connection a The first end.
---@return tide.pipe.Connection b The second end.
function tide.pipe.Pipe(duplex) end

---Waits until at least one of `conns` has something to receive (or is at end of stream).
---@param conns tide.pipe.Connection[] A non-empty array of connections.
---@param timeout? number Seconds to wait; forever when nil.
---@return tide.pipe.Connection[] ready The ready connections (empty at the timeout).
function tide.pipe.wait(conns, timeout) end

---Creates a named pipe (FIFO) at `path`; raises `OSError` if it cannot.
---@param path string Where to create it.
---@param mode? integer Its permission bits (default `384`, i.e. 0600).
function tide.pipe.fifo(path, mode) end

---Opens a named pipe as a connection, waiting for the other side to open it.
---@param path string The FIFO's path.
---@param mode "r"|"w" Read end or write end.
---@param timeout? number Seconds to wait for the other side; forever when nil.
---@return tide.pipe.Connection conn The open connection.
function tide.pipe.open(path, mode, timeout) end

---Sends one message holding the values (copied). A single string is sent as bytes (`recv_bytes` can read it). Atomic between threads and processes. Raises `Closed` when the peer is gone.
---@param value any The value to send (at least one).
---@param ... any More values in the same message.
function Connection:send(value, ...) end

---Receives one message and returns its values. Raises `Closed` at end of stream, `Timeout` when nothing arrived in time.
---@param timeout? number Seconds to wait; forever when nil.
---@return any ... The values sent, in order.
function Connection:recv(timeout) end

---Sends a string as raw bytes.
---@param s string The bytes.
function Connection:send_bytes(s) end

---Receives a bytes message as a string. Raises `Closed` at end of stream, `Timeout` when nothing arrived in time, `TransferError` when the next message was sent with `send` (not bytes) or is longer than `maxlen` (it stays in the pipe).
---@param maxlen? integer The largest message accepted, >= 0; no limit when nil.
---@param timeout? number Seconds to wait; forever when nil.
---@return string bytes The message.
function Connection:recv_bytes(maxlen, timeout) end

---Whether there is something to receive. With no argument it does not block (as in Python); an explicit nil waits forever.
---@param timeout? number Seconds to wait.
---@return boolean ready True when `recv` would not block.
function Connection:poll(timeout) end

---Closes this end (the peer then sees end of stream); closing twice is fine.
function Connection:close() end

---The connection's file descriptor. A Pipe()'s small messages travel through shared memory and make it readable only after `poll` (or `recv`, `pipe.wait`) found nothing: call `poll(0)` before waiting on it yourself, and again after.
---@return integer fd The descriptor.
function Connection:fileno() end

return tide.pipe
