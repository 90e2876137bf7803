-- Codec: encode+decode throughput for small records.
-- There is no Lua-level codec API, so this goes through the cheapest path that
-- uses it: an identity thread. The records table is encoded into the new
-- state as the argument and encoded back as the result, so each record makes
-- 2 encode+decode rounds. A spawn of an empty table is subtracted so thread
-- start/join cost is not counted as codec time.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local thread = require "tide.thread"

local N, REPS = 100000, 3

local records = {}
for i = 1, N do
  records[i] = { id = i, name = "item" .. i, tags = { "a", "b", "c" }, score = i * 0.5 }
end

local function identity(t) return t end

-- The copy must be faithful, or the figure is meaningless.
local back = thread.spawn(identity, records):join()
bench.check(back ~= records and #back == N, "codec: got %d records back", #back)
for _, i in ipairs { 1, 2, N // 2, N } do
  local r = back[i]
  bench.check(r.id == i and r.name == "item" .. i and r.score == i * 0.5
    and #r.tags == 3 and r.tags[1] == "a" and r.tags[3] == "c", "codec: record %d differs", i)
end
back = nil

local base = bench.best(REPS, function() thread.spawn(identity, {}):join() end)
local full = bench.best(REPS, function() thread.spawn(identity, records):join() end)
local rps = 2 * N / (full - base)
-- The argument direction alone (1 round), to show if one direction dominates.
-- Rough split: closing the worker state frees its copy inside the timing,
-- while the copy returned to the main state is freed outside it.
local arg_only = bench.best(REPS, function() thread.spawn(function(t) return #t end, records):join() end)
local rps_in = N / (arg_only - base)

local py = bench.python("codec.py")
bench.line("Codec %d records x 2 rounds (identity thread: arg in + result back, minus empty spawn %.0f us): tide %.0f k rec/s   python pickle %.0f k rec/s   ratio x%.2f   (target >=1000 k)",
  N, base * 1e6, rps / 1e3, py.pickle_rps / 1e3, rps / py.pickle_rps)
bench.line("Codec by direction (rough): argument in %.0f k rec/s (%.0f ms)   result back %.0f k rec/s (%.0f ms)",
  rps_in / 1e3, (arg_only - base) * 1e3, N / (full - arg_only) / 1e3, (full - arg_only) * 1e3)
bench.line("Codec vs python multiprocessing (same identity round trip through a Pool worker: pickle + pipe, both ways): python %.0f k rec/s   ratio x%.2f",
  py.mp_rps / 1e3, rps / py.mp_rps)
