-- tide.async's data structures (see _asyncloop.lua): wait lists of tasks
-- and the timer heap.
local C = {}

-- Task slots and the state a live registration needs (see _asyncloop.lua).
local STATE <const>, GEN <const> = 2, 6
local SUSPENDED = "suspended"

-- ------------------------------------------------------------- wait lists
-- A FIFO of (task, gen) registrations, stored in the array part of any
-- table with fields h (first pair) and n (last pair): tasks at odd slots,
-- gens at even ones. Stale entries (the task was woken by something else)
-- are skipped when popping and dropped by an amortised compaction, so a
-- list nobody pops (an Event never set, waited on with timeouts) stays small.

local function wl_init(l)
  l.h, l.n, l.lim = 1, 0, 16
  return l
end
C.wl_init = wl_init

local function live(t, g)
  return t[STATE] == SUSPENDED and t[GEN] == g
end

local function wl_compact(l)
  local h, n, j = l.h, l.n, 0
  for i = h, n do
    local t, g = l[2 * i - 1], l[2 * i]
    l[2 * i - 1], l[2 * i] = nil, nil
    if live(t, g) then
      j = j + 1
      l[2 * j - 1], l[2 * j] = t, g
    end
  end
  l.h, l.n = 1, j
  l.lim = j * 2 > 16 and j * 2 or 16
  return j
end
C.wl_compact = wl_compact

local function wl_push(l, t)
  local n = l.n + 1
  if n - l.h + 1 > l.lim then
    wl_compact(l)
    n = l.n + 1
  end
  l[2 * n - 1], l[2 * n] = t, t[GEN]
  l.n = n
end
C.wl_push = wl_push

-- The first live registration (removed), or nil.
local function wl_pop(l)
  local h, n = l.h, l.n
  while h <= n do
    local t, g = l[2 * h - 1], l[2 * h]
    l[2 * h - 1], l[2 * h] = nil, nil
    h = h + 1
    if live(t, g) then
      l.h = h
      return t
    end
  end
  l.h, l.n = 1, 0
  return nil
end
C.wl_pop = wl_pop

-- Removes every registration; returns the live tasks as an array (or nil).
local function wl_take(l)
  local out, k = nil, 0
  for i = l.h, l.n do
    local t, g = l[2 * i - 1], l[2 * i]
    l[2 * i - 1], l[2 * i] = nil, nil
    if live(t, g) then
      k = k + 1
      out = out or {}
      out[k] = t
    end
  end
  l.h, l.n = 1, 0
  return out, k
end
C.wl_take = wl_take

-- ------------------------------------------------------------------ timers
-- A binary heap of entries {at, seq, task, gen} (wake the task with
-- TIMEOUT) or {at, seq, fn, arg} (call fn(loop, arg)). Entries whose task
-- was woken otherwise are marked dead and skipped; the heap is rebuilt when
-- the dead outnumber the living.

local function before(a, b)
  return a.at < b.at or (a.at == b.at and a.seq < b.seq)
end

local function heap_up(h, i)
  local e = h[i]
  while i > 1 do
    local p = i // 2
    if not before(e, h[p]) then break end
    h[i] = h[p]
    i = p
  end
  h[i] = e
end

local function heap_down(h, i, n)
  local e = h[i]
  while true do
    local c = 2 * i
    if c > n then break end
    if c < n and before(h[c + 1], h[c]) then c = c + 1 end
    if not before(h[c], e) then break end
    h[i] = h[c]
    i = c
  end
  h[i] = e
end

local function heap_pop(loop)
  local h, n = loop.timers, loop.ntimers
  local top = h[1]
  h[1] = h[n]
  h[n] = nil
  n = n - 1
  loop.ntimers = n
  if n > 1 then heap_down(h, 1, n) end
  return top
end

local function add_timer(loop, at, task, fn, arg)
  local seq = loop.timer_seq + 1
  loop.timer_seq = seq
  local e = {at = at, seq = seq, task = task, gen = task and task[GEN], fn = fn, arg = arg}
  local n = loop.ntimers + 1
  loop.ntimers = n
  loop.timers[n] = e
  heap_up(loop.timers, n)
  return e
end
C.add_timer = add_timer

local function kill_timer(loop, e)
  if not e.dead and not e.fired then
    e.dead = true
    local dead = loop.dead_timers + 1
    loop.dead_timers = dead
    if dead > 64 and dead * 2 > loop.ntimers then  -- rebuild without the dead
      local h, k = loop.timers, 0
      for i = 1, loop.ntimers do
        local x = h[i]
        h[i] = nil
        if not x.dead then
          k = k + 1
          h[k] = x
        end
      end
      loop.ntimers, loop.dead_timers = k, 0
      for i = k // 2, 1, -1 do heap_down(h, i, k) end
    end
  end
end
C.kill_timer = kill_timer

C.heap_pop = heap_pop
return C
