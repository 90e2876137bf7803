-- Annotation coverage (issue 12; luv's docs-coverage check is the model):
-- every public tide module, function, module field and method that exists
-- at run time has a LuaLS annotation in lua/meta/, and every annotation
-- names something that exists. Modules are found at run time (the
-- package.preload entries "tide" and "tide.<name>", "_" names being
-- internal), so a module added later is checked the day it appears; the
-- methods of each class are read from a live instance's metatable.
-- Annotations are read with scripts/gen_reference.lua's parser, the one
-- that writes lua/REFERENCE.md.
local T = require "harness"
local tide = require "tide"

-- Modules whose annotations are being written on other branches (issue 12).
-- The coordinator removes each entry when that branch is merged (the spec
-- then names any class of the module that needs a FACTORIES entry).
-- Nothing else is exempt.
local PENDING = {}

local source = assert(os.getenv("TIDE_SOURCE_DIR"), "TIDE_SOURCE_DIR is not set")
local gen = assert(loadfile(source .. "/scripts/gen_reference.lua"))("--library")
local model = gen.parse_tree(source)

-- One cheap instance of every class a module hands out (nothing started),
-- with the annotation class it must match. `ctor` is the module function
-- that makes it: every capitalised module function (a constructor) needs an
-- entry here, so a new class is checked the day it appears. `done` cleans up.
local stream_owner  -- the Popen whose stdout the Stream factory hands out
local async_stream_owner  -- the same for tide.async.subprocess
local cluster_redis  -- the redis-server the cluster.Pool factory started
local FACTORIES = {
  {module = "tide", class = "tide.Error", ctor = "error", make = function(m) return m.error("Timeout", "x") end},
  {module = "tide.thread", class = "tide.thread.Thread", ctor = "Thread",
   make = function(m) return m.Thread{target = function() end} end},
  {module = "tide.thread", class = "tide.thread.Timer", ctor = "Timer",
   make = function(m) return m.Timer(0, function() end) end},
  {module = "tide.sync", class = "tide.sync.Lock", ctor = "Lock", make = function(m) return m.Lock() end},
  {module = "tide.sync", class = "tide.sync.RLock", ctor = "RLock", make = function(m) return m.RLock() end},
  {module = "tide.sync", class = "tide.sync.Condition", ctor = "Condition", make = function(m) return m.Condition() end},
  {module = "tide.sync", class = "tide.sync.Semaphore", ctor = "Semaphore", make = function(m) return m.Semaphore() end},
  {module = "tide.sync", class = "tide.sync.BoundedSemaphore", ctor = "BoundedSemaphore",
   make = function(m) return m.BoundedSemaphore() end},
  {module = "tide.sync", class = "tide.sync.Event", ctor = "Event", make = function(m) return m.Event() end},
  {module = "tide.sync", class = "tide.sync.Barrier", ctor = "Barrier", make = function(m) return m.Barrier(1) end},
  {module = "tide.sync", class = "tide.sync.Guard", make = function(m) return m.Lock():guard() end,
   done = function(g) g:release() end},
  {module = "tide.queue", class = "tide.queue.Queue", ctor = "Queue", make = function(m) return m.Queue() end},
  {module = "tide.queue", class = "tide.queue.LifoQueue", ctor = "LifoQueue", make = function(m) return m.LifoQueue() end},
  {module = "tide.queue", class = "tide.queue.PriorityQueue", ctor = "PriorityQueue",
   make = function(m) return m.PriorityQueue() end},
  {module = "tide.queue", class = "tide.queue.SimpleQueue", ctor = "SimpleQueue",
   make = function(m) return m.SimpleQueue() end},
  {module = "tide.future", class = "tide.future.Future", ctor = "new", make = function(m) return m.new() end},
  {module = "tide.process", class = "tide.process.Process", ctor = "Process",
   make = function(m) return m.Process{target = function() end} end, done = function(p) p:close() end},
  {module = "tide.pipe", class = "tide.pipe.Connection", ctor = "Pipe",
   make = function(m) return m.Pipe() end, done = function(c) c:close() end},
  {module = "tide.shared", class = "tide.shared.Value", ctor = "Value", make = function(m) return m.Value("int") end},
  {module = "tide.shared", class = "tide.shared.Array", ctor = "Array", make = function(m) return m.Array("int", 1) end},
  {module = "tide.shared", class = "tide.shared.Table", ctor = "Table", make = function(m) return m.Table() end},
  {module = "tide.async", class = "tide.async.Task", make = function(m) return m.new_loop():spawn(function() end) end,
   done = function(t) t.loop:close() end},
  {module = "tide.async", class = "tide.async.Loop", make = function(m) return m.new_loop() end,
   done = function(l) l:close() end},
  {module = "tide.async", class = "tide.async.Timeout", make = function(m) return m.run(function() return m.timeout() end) end},
  {module = "tide.async", class = "tide.async.Iter", make = function(m) return (m.iter(function() end)) end},
  {module = "tide.async", class = "tide.async.Queue", ctor = "Queue", make = function(m) return m.Queue() end},
  {module = "tide.async", class = "tide.async.Event", ctor = "Event", make = function(m) return m.Event() end},
  {module = "tide.async", class = "tide.async.Lock", ctor = "Lock", make = function(m) return m.Lock() end},
  {module = "tide.async", class = "tide.async.Semaphore", ctor = "Semaphore", make = function(m) return m.Semaphore() end},
  {module = "tide.async", class = "tide.async.BoundedSemaphore", ctor = "BoundedSemaphore",
   make = function(m) return m.BoundedSemaphore() end},
  {module = "tide.async", class = "tide.async.Condition", ctor = "Condition", make = function(m) return m.Condition() end},
  {module = "tide.async.subprocess", class = "tide.async.subprocess.Popen", ctor = "Popen",
   make = function(m) return m.Popen({"true"}, {stdin = "pipe", stdout = "pipe"}) end,
   done = function(p) p.stdin:close() p.stdout:close() end},
  {module = "tide.async.subprocess", class = "tide.async.subprocess.Stream",
   make = function(m)
     async_stream_owner = m.Popen({"true"}, {stdout = "pipe"})
     return async_stream_owner.stdout
   end,
   done = function(s) s:close() end},
  {module = "tide.pool", class = "tide.pool.ThreadPool", ctor = "ThreadPool",
   make = function(m) return m.ThreadPool{workers = 1} end, done = function(p) p:shutdown() end},
  {module = "tide.pool", class = "tide.pool.ProcessPool", ctor = "ProcessPool",
   make = function(m) return m.ProcessPool{workers = 1, start_method = "fork"} end,
   done = function(p) p:shutdown() end},
  -- A cluster pool needs a Redis to connect to: a real redis-server on a
  -- free loopback port (tests/lua/cluster_util.lua), stopped with the pool.
  {module = "tide.cluster", class = "tide.cluster.Pool", ctor = "Pool",
   make = function(m)
     local cu = require "cluster_util"
     cluster_redis = cu.redis()
     return m.Pool{url = cluster_redis.url, key = cu.KEY}
   end,
   done = function(p)
     p:shutdown()
     cluster_redis:stop()
   end},
  {module = "tide.actor", class = "tide.actor.ActorRef", make = function(m) return m.spawn({}) end,
   done = function(r) require("tide.actor").destroy(r) end},
  {module = "tide.subprocess", class = "tide.subprocess.Popen", ctor = "Popen",
   make = function(m) return m.Popen({"true"}, {stdin = "pipe", stdout = "pipe", stderr = "pipe"}) end,
   done = function(p) p:communicate() end},
  {module = "tide.subprocess", class = "tide.subprocess.Stream",
   make = function(m)
     stream_owner = m.Popen({"true"}, {stdout = "pipe"})
     return stream_owner.stdout
   end,
   done = function(s)
     s:close()
     stream_owner:wait()
   end},
}

-- ---- helpers -----------------------------------------------------------------

-- The public modules present in this state, sorted.
local function public_modules()
  local names = {}
  for name in pairs(package.preload) do
    if name == "tide" or name:match("^tide%.[^_]") then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function set_of(list, key)
  local s = {}
  for _, v in ipairs(list) do s[key and v[key] or v] = true end
  return s
end

local function sorted_keys(s)
  local out = {}
  for k in pairs(s) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- Names of an instance's methods: its metatable's __index table, or the
-- methods table among the upvalues of an __index closure (tide's C classes
-- keep it there, next to a getter for fields), or else the metatable's
-- `methods` table.
local function methods_of(obj)
  local mt = getmetatable(obj)
  if type(mt) ~= "table" then return nil, "no metatable" end
  local idx, methods = rawget(mt, "__index"), nil
  if idx == nil then return {} end
  if type(idx) == "table" then
    methods = idx
  elseif type(idx) == "function" then
    for i = 1, 255 do
      local name, v = debug.getupvalue(idx, i)
      if name == nil then break end
      if type(v) == "table" and v ~= mt then methods = v break end
    end
    -- tide.subprocess's classes keep it in the metatable's `methods`
    -- field, which their C __index reads.
    if not methods and type(rawget(mt, "methods")) == "table" then methods = rawget(mt, "methods") end
  end
  if not methods then return nil, "cannot find the methods table behind __index" end
  local names = {}
  for k, v in pairs(methods) do
    if type(k) == "string" and type(v) == "function" and not k:match("^__") then names[k] = true end
  end
  return names
end

-- The annotated class `name` of `mdl`, with its parents' methods and
-- fields merged in; nil when not annotated.
local function annotated_class(mdl, name)
  local c = mdl.classes[name]
  if not c then return nil end
  local methods, fields = {}, {}
  local seen = {}
  while c and not seen[c] do
    seen[c] = true
    for _, m in ipairs(c.methods) do methods[m.name] = methods[m.name] or m end
    for _, f in ipairs(c.fields) do fields[f.name] = fields[f.name] or f end
    c = c.parent and mdl.classes[c.parent]
  end
  return {methods = methods, fields = fields}
end

-- Problems with module `name` (table `mod`) against annotations `mdl`:
-- functions and fields not annotated, annotations naming nothing.
-- `submodules`: the public module names, for the root's lazy fields.
local function module_problems(mdl, name, mod, submodules)
  local ann = mdl.modules[name]
  if not ann then return {name .. ": no annotation file (---@meta " .. name .. ")"} end
  local funcs, fields = set_of(ann.functions, "name"), set_of(ann.fields, "name")
  local problems = {}
  local submodule = {}
  for _, m in ipairs(submodules or {}) do  -- tide.x, loaded on first use
    local short = m:match("^" .. name:gsub("%.", "%%.") .. "%.([^.]+)$")
    if short then submodule[short] = true end
    if short and not PENDING[m] and mod[short] ~= nil and not fields[short] then
      problems[#problems + 1] = name .. "." .. short .. ": submodule not annotated as a ---@field"
    end
  end
  for k, v in pairs(mod) do
    if type(k) == "string" and not submodule[k] then
      if type(v) == "function" then
        if not funcs[k] then problems[#problems + 1] = name .. "." .. k .. ": function not annotated" end
      elseif not fields[k] then
        problems[#problems + 1] = name .. "." .. k .. ": field not annotated"
      end
    end
  end
  for f in pairs(funcs) do
    if type(mod[f]) ~= "function" then problems[#problems + 1] = name .. "." .. f .. ": annotated, but not a function" end
  end
  for _, f in ipairs(ann.fields) do
    local value = not PENDING[name .. "." .. f.name] and mod[f.name]
    if value == nil then
      problems[#problems + 1] = name .. "." .. f.name .. ": annotated field is nil"
    elseif type(value) == "table" and submodule[f.name] and f.type ~= name .. "." .. f.name then
      problems[#problems + 1] = name .. "." .. f.name .. ": submodule annotated as " .. f.type
    end
  end
  table.sort(problems)
  return problems
end

-- Problems with the classes of module `name`: for each factory, methods
-- of a live instance not annotated (or annotated but absent), always-present
-- fields that read nil; constructors and annotated classes no factory covers.
local function class_problems(mdl, name, mod, factories)
  local problems = {}
  local covered = {}
  for _, f in ipairs(factories) do
    if f.ctor then covered[f.ctor] = true end
    covered[f.class] = true
    local obj = f.make(mod)
    local methods, why = methods_of(obj)
    local cls = annotated_class(mdl, f.class)
    if not methods then
      problems[#problems + 1] = f.class .. ": " .. why
    elseif not cls then
      problems[#problems + 1] = f.class .. ": no ---@class " .. f.class
    else
      for _, m in ipairs(sorted_keys(methods)) do
        if not cls.methods[m] then problems[#problems + 1] = f.class .. ":" .. m .. ": method not annotated" end
      end
      for _, m in ipairs(sorted_keys(cls.methods)) do
        if not methods[m] then problems[#problems + 1] = f.class .. ":" .. m .. ": annotated, but no such method" end
      end
      for _, fname in ipairs(sorted_keys(cls.fields)) do  -- `name?` fields may be nil
        if not cls.fields[fname].optional and not fname:match("^%[") and obj[fname] == nil then
          problems[#problems + 1] = f.class .. "." .. fname .. ": annotated field reads nil"
        end
      end
    end
    if f.done then f.done(obj) end
  end
  for k, v in pairs(mod) do
    if type(k) == "string" and type(v) == "function" and k:match("^%u") and not covered[k] then
      problems[#problems + 1] = name .. "." .. k .. ": constructor with no FACTORIES entry in annotations_spec.lua"
    end
  end
  for cname, c in pairs(mdl.classes) do
    if c.module == name and #c.methods > 0 and not covered[cname] then
      problems[#problems + 1] = cname .. ": annotated methods, but no FACTORIES entry makes one"
    end
  end
  table.sort(problems)
  return problems
end

local function fail_list(what, list)
  if #list > 0 then error(what .. ":\n    " .. table.concat(list, "\n    "), 0) end
end

-- ---- the checks --------------------------------------------------------------

T.test("the annotation files parse", function()
  fail_list("annotation errors", model.errors)
end)

local factories_of = {}
for _, f in ipairs(FACTORIES) do
  factories_of[f.module] = factories_of[f.module] or {}
  table.insert(factories_of[f.module], f)
end

local modules = public_modules()
T.test("modules are found at run time", function()
  local found = set_of(modules)
  for _, name in ipairs({"tide", "tide.thread", "tide.sync", "tide.queue", "tide.future", "tide.process",
                         "tide.pipe", "tide.shared", "tide.os", "tide.log", "tide.subprocess", "tide.signal"}) do
    T.truthy(found[name], name .. " in package.preload")
  end
  T.falsy(found["tide._pool"], "internal modules are left out")
end)

for _, name in ipairs(modules) do
  if PENDING[name] then
    io.write("note ", name, ": annotations pending on another branch (PENDING)\n")
  else
    T.test(name .. ": every function and field is annotated, and every annotation exists", function()
      fail_list("coverage problems", module_problems(model, name, require(name), modules))
    end)
    T.test(name .. ": every method of every class is annotated", function()
      fail_list("coverage problems", class_problems(model, name, require(name), factories_of[name] or {}))
    end)
  end
end

T.test("every annotated module exists at run time", function()
  local present = set_of(modules)
  local stale = {}
  for name in pairs(model.modules) do
    if not present[name] and not PENDING[name] then stale[#stale + 1] = name end
  end
  table.sort(stale)
  fail_list("annotated modules that do not exist", stale)
end)

-- The error kinds tide knows (host/core/error.cpp, the one list) are
-- exactly the values of the tide.ErrorKind alias.
T.test("tide.ErrorKind lists exactly the error kinds", function()
  local f = assert(io.open(source .. "/host/core/error.cpp"))
  local cpp = f:read("a")
  f:close()
  local list = assert(cpp:match("kNames%[%]%s*=%s*(%b{})"), "kNames[] in host/core/error.cpp")
  local kinds = {}
  for k in list:gmatch('"(%w+)"') do kinds[k] = true end
  T.truthy(next(kinds), "kinds read from error.cpp")
  local alias
  for _, t in ipairs(model.modules.tide.types) do if t.name == "tide.ErrorKind" then alias = t end end
  T.truthy(alias, "the tide.ErrorKind alias")
  local annotated = {}
  for _, v in ipairs(alias.values) do annotated[assert(v.value:match('^"(%w+)"$'), v.value)] = true end
  local problems = {}
  for k in pairs(kinds) do if not annotated[k] then problems[#problems + 1] = k .. ": not in tide.ErrorKind" end end
  for k in pairs(annotated) do
    if not kinds[k] then problems[#problems + 1] = k .. ": annotated, but not a kind"
    elseif not tide.is_error(tide.error(k, "m"), k) then problems[#problems + 1] = k .. ": tide.error rejects it" end
  end
  table.sort(problems)
  fail_list("error kinds", problems)
end)

-- The checks themselves can fail: a synthetic module and annotations with
-- one of each gap produce exactly the expected reports.
T.test("the coverage checks report every kind of gap", function()
  local fake = gen.parse_text(table.concat({
    "---@meta tide.fake",
    "local tide = {}",
    "---A fake module.",
    "---@class tide.fake",
    "---@field limit integer A field.",
    "---@field gone integer A field the module lacks.",
    "---@field sub tide.wrong A submodule, annotated with the wrong type.",
    "tide.fake = {}",
    "---A class.",
    "---@class tide.fake.C",
    "---@field size integer Always there.",
    "---@field label? string May be nil.",
    "local C = {}",
    "---Unmade.",
    "---@class tide.fake.D",
    "local D = {}",
    "---Does a.",
    "function C:a() end",
    "---Does z (which the class lacks).",
    "function C:z() end",
    "---Does d.",
    "function D:d() end",
    "---Makes a C.",
    "---@return tide.fake.C c The new one.",
    "function tide.fake.C() end",
    "---Annotated, missing.",
    "function tide.fake.old() end",
  }, "\n"), "fake.lua")
  T.eq(#fake.errors, 0, "synthetic annotations parse: " .. table.concat(fake.errors, "; "))
  local methods = {a = print, b = print, __close = print}
  local mod = {
    limit = 3, extra = true, new = print, Other = print, sub = {}, other = {},
    C = function() return setmetatable({}, {__index = function(_, k) return methods[k] end}) end,
  }
  T.same(module_problems(fake, "tide.fake", mod, {"tide.fake.sub", "tide.fake.other"}), {
    "tide.fake.Other: function not annotated",
    "tide.fake.extra: field not annotated",
    "tide.fake.gone: annotated field is nil",
    "tide.fake.new: function not annotated",
    "tide.fake.old: annotated, but not a function",
    "tide.fake.other: submodule not annotated as a ---@field",
    "tide.fake.sub: submodule annotated as tide.wrong",
  })
  local factories = {{module = "tide.fake", class = "tide.fake.C", ctor = "C", make = function(m) return m.C() end}}
  T.same(class_problems(fake, "tide.fake", mod, factories), {
    "tide.fake.C.size: annotated field reads nil",
    "tide.fake.C:b: method not annotated",
    "tide.fake.C:z: annotated, but no such method",
    "tide.fake.D: annotated methods, but no FACTORIES entry makes one",
    "tide.fake.Other: constructor with no FACTORIES entry in annotations_spec.lua",
  })
  T.same(module_problems(fake, "tide.other", {}), {"tide.other: no annotation file (---@meta tide.other)"})
end)

T.done()
