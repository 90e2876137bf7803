-- tide.pool (API.md §6): ThreadPool. The native half (tide._pool) runs
-- tasks on warm worker states and completes their futures; map, imap,
-- imap_unordered, starmap, apply, apply_async and the progress bar are
-- built on submit and futures in tide._pool_api, which every tide pool
-- (tide.cluster's too) shares.
local tide = require "tide"
local native = require "tide._pool"

local M = {}
local methods = native.methods

M.ThreadPool = native.ThreadPool
M.default = native.default

function M.ProcessPool()
  error(tide.error("InvalidState", "tide.pool.ProcessPool is not available in this version; use ThreadPool"), 2)
end

require("tide._pool_api").install(methods)

return M
