-- tide.cluster (API.md §17): a pool whose workers are `tide worker`
-- processes on any machine that reaches one Redis. The native half
-- (tide._cluster) submits signed tasks to the queue's stream and completes
-- ordinary tide Futures from this pool's result stream; map, imap,
-- imap_unordered, starmap, apply, apply_async and the progress bar are the
-- ones every tide pool shares (tide._pool_api).
local native = require "tide._cluster"

local M = {}

M.Pool = native.Pool

require("tide._pool_api").install(native.methods)

return M
