-- tide.pool (API.md §6): ThreadPool and ProcessPool. The native half (tide._pool) runs
-- tasks on warm worker states and completes their futures; map, imap,
-- imap_unordered, starmap, apply, apply_async and the progress bar are
-- built on submit and futures in tide._pool_api, which every tide pool
-- (tide.cluster's too) shares.
local native = require "tide._pool"

local M = {}

M.ThreadPool = native.ThreadPool
M.ProcessPool = native.ProcessPool
M.default = native.default

local api = require "tide._pool_api"
api.install(native.methods)
-- A ProcessPool has the same interface: the same Lua methods.
api.install(native.process_methods)

return M
