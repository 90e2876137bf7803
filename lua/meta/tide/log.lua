---@meta tide.log

local tide = {}

---Logging through the host's logger (spdlog) on stderr; each record carries the process id and the thread or worker name. The `TIDE_LOG` environment variable sets the level at start.
---@class tide.log
tide.log = {}

---A log level name.
---@alias tide.log.Level
---| "trace" # Everything.
---| "debug" # Worker lifecycle and details.
---| "info" # Normal events.
---| "warn" # Something looks wrong (the default level).
---| "warning" # Same as "warn" (what `get_level` returns for it).
---| "error" # Something failed.
---| "err" # Same as "error".
---| "critical" # Only critical records (tide logs none today).
---| "off" # Nothing.

---Logs at debug level: `string.format(fmt, ...)`, or the value itself when alone.
---@param fmt any A `string.format` format, or the message when there are no more arguments.
---@param ... any The format's arguments.
function tide.log.debug(fmt, ...) end

---Logs at info level: `string.format(fmt, ...)`, or the value itself when alone.
---@param fmt any A `string.format` format, or the message when there are no more arguments.
---@param ... any The format's arguments.
function tide.log.info(fmt, ...) end

---Logs at warn level: `string.format(fmt, ...)`, or the value itself when alone.
---@param fmt any A `string.format` format, or the message when there are no more arguments.
---@param ... any The format's arguments.
function tide.log.warn(fmt, ...) end

---Logs at error level: `string.format(fmt, ...)`, or the value itself when alone.
---@param fmt any A `string.format` format, or the message when there are no more arguments.
---@param ... any The format's arguments.
function tide.log.error(fmt, ...) end

---Sets the level below which records are dropped; raises `ArgumentError` for an unknown name.
---@param level tide.log.Level The new level.
function tide.log.set_level(level) end

---The current level.
---@return tide.log.Level level The level's name (`"warning"` for warn).
function tide.log.get_level() end

return tide.log
