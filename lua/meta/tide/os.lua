---@meta tide.os

local tide = {}

---Python's `os` process and descriptor calls. Failures raise `OSError` with the field `errno`; blocking calls (`waitpid`, `read`, `write`) are cancellable and interrupted by Ctrl-C in the main state.
---@class tide.os
tide.os = {}

---The `WNOHANG` flag for `waitpid`: return at once when no child has changed state.
---@type integer
tide.os.WNOHANG = 1

---Forks the process (C stdio is flushed first, so output is not duplicated). In the child, the parent's other threads do not exist.
---@return integer pid The child's pid in the parent, 0 in the child.
function tide.os.fork() end

---Waits for a child to change state.
---@param pid integer The child's pid (-1: any child).
---@param flags? integer 0 (default) or `WNOHANG`.
---@return integer pid The child that changed state (0 with `WNOHANG` when none did).
---@return integer status Its wait status (see `waitstatus_to_exitcode`).
function tide.os.waitpid(pid, flags) end

---Converts a wait status to an exit code: the exit status, or `-N` when killed by signal N. Raises `ArgumentError` for a status that is neither.
---@param status integer A status from `waitpid`.
---@return integer code The exit code.
function tide.os.waitstatus_to_exitcode(status) end

---Ends the process at once with `code`, without running exit handlers (C stdio is flushed first).
---@param code? integer The exit status (default 0).
function tide.os._exit(code) end

---Creates a pipe (close-on-exec).
---@return integer r The read descriptor.
---@return integer w The write descriptor.
function tide.os.pipe() end

---Reads at most `n` bytes from `fd` (what one `read()` gives; "" at end of file).
---@param fd integer The descriptor.
---@param n integer The most bytes to read, >= 0.
---@return string data The bytes read.
function tide.os.read(fd, n) end

---Writes `s` to `fd` (what one `write()` takes).
---@param fd integer The descriptor.
---@param s string The bytes.
---@return integer n The number of bytes written.
function tide.os.write(fd, s) end

---Closes a descriptor.
---@param fd integer The descriptor.
function tide.os.close(fd) end

---The process id.
---@return integer pid This process's id.
function tide.os.getpid() end

---The parent's process id.
---@return integer pid The parent process's id.
function tide.os.getppid() end

---Sends a signal to a process.
---@param pid integer The process id (0 or negative: a process group, as in kill(2)).
---@param sig integer|string The signal: a number, or a name with or without "SIG" (`"SIGTERM"`, `"TERM"`).
function tide.os.kill(pid, sig) end

return tide.os
