-- Issue 15 defect 11: misspelled option keys were silently ignored. An
-- unknown key in any options table is an ArgumentError naming the key and
-- the accepted ones; a value of the wrong type names its type, never its
-- text (workers="2" said "got 2").
local T = require "harness"
local pool = require "tide.pool"
local thread = require "tide.thread"
local process = require "tide.process"
local shared = require "tide.shared"
local future = require "tide.future"

T.test("every options table refuses an unknown key, naming it and the accepted ones", function()
  T.raises("ArgumentError", "unknown option 'wrkers'.*workers", pool.ThreadPool, {wrkers = 2})
  T.raises("ArgumentError", "unknown option 'nmae'.*name", thread.Thread, {target = print, nmae = "x"})
  T.raises("ArgumentError", "unknown option 'demon'.*daemon", process.Process, {target = print, demon = true})
  T.raises("ArgumentError", "unknown option 'lok'.*lock", shared.Value, "int", 0, {lok = false})
  T.raises("ArgumentError", "unknown option 'lok'.*lock", shared.Array, "int", 2, {lok = false})
  T.raises("ArgumentError", "unknown option 'timeot'.*timeout", future.wait, {}, {timeot = 1})
  local p <close> = pool.ThreadPool{workers = 1}
  local f = function(x) return x end
  T.raises("ArgumentError", "unknown option 'chunksiz'.*chunksize", p.map, p, f, {1}, {chunksiz = 2})
  T.raises("ArgumentError", "unknown option 'chunksiz'", p.starmap, p, f, {{1}}, {chunksiz = 2})
  T.raises("ArgumentError", "unknown option 'indexd'.*indexed", p.imap, p, f, {1}, {indexd = true})
  T.raises("ArgumentError", "unknown option 'indexd'", p.imap_unordered, p, f, {1}, {indexd = true})
  T.raises("ArgumentError", "unknown option 'callbak'.*callback", p.apply_async, p, f, {1}, {callbak = print})
  T.raises("ArgumentError", "unknown option 'wiat'.*wait", p.shutdown, p, {wiat = false})
  T.raises("ArgumentError", "option names are strings, got a number key", pool.ThreadPool, {2})
end)

T.test("accepted keys still work", function()
  local p <close> = pool.ThreadPool{workers = 1, name = "ok", max_tasks_per_worker = 3}
  T.same(p:map(function(x) return x + 1 end, {1, 2}, {chunksize = 1, timeout = 30, progress = false}), {2, 3})
  T.eq(shared.Value("int", 1, {lock = false}).value, 1)
  p:shutdown{wait = true, cancel_futures = false}
end)

T.test("a wrong type says the type, not the value's text", function()
  local e = T.raises("ArgumentError", pool.ThreadPool, {workers = "2"})
  T.match(e.message, "got string")
  T.raises("ArgumentError", "got 0", pool.ThreadPool, {workers = 0})
  T.raises("ArgumentError", "got table", thread.Thread, {target = {}})
  T.raises("ArgumentError", "got number", thread.Thread, {target = print, name = 1})
  local p <close> = pool.ThreadPool{workers = 1}
  T.raises("ArgumentError", "got number", p.shutdown, p, {wait = 0})
end)

T.done()
