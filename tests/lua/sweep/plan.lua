-- The hostile API sweep's plan (tests/lua/sweep_spec.lua): what exists is
-- found at run time, so a module, function or method added tomorrow is
-- swept the day it lands.
--
-- discover(invoke) walks every module `require "tide"` can load (the
-- "tide" and "tide.*" entries of package.preload and package.loaded, each
-- also reached through the root's lazy fields), every function in them,
-- and every class whose objects some call returns (an object's class is
-- its metatable: methods through __index, tables among an __index
-- function's upvalues, and metamethods). It calls each function and method
-- with the plausible argument lists of sweep/corpus.lua to find its base
-- (a well-formed call) and the classes its results belong to, and records
-- how to make an object of each class (its maker). The plan it returns is
-- plain data (names and indexes), so a later sweep child rebuilds exactly
-- the same calls from it.
--
-- calls(plan, mode) expands the plan into the calls to make: each target
-- with every bad value at each argument position, substituted into its
-- base, as `self` (a method called with `.` or on the wrong object), and
-- on a released and a closed object of its own class.
local C = require "sweep.corpus"

local P = {}

local MAX_CLASS_DEPTH = 3
local MAX_RETURNED = 60

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

-- Every tide module this state can load: preloaded (native and embedded)
-- or already loaded.
function P.module_names()
  local seen, names = {}, {}
  for _, t in ipairs{package.preload, package.loaded} do
    for name in pairs(t) do
      if type(name) == "string" and (name == "tide" or name:match("^tide%.")) and not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
  table.sort(names)
  return names
end

function P.resolve(path)
  local v = package.loaded[path[1]] or require(path[1])
  for i = 2, #path do
    if type(v) ~= "table" then return nil end
    v = rawget(v, path[i])
  end
  return v
end

local function is_module_table(v)
  for _, m in pairs(package.loaded) do
    if rawequal(m, v) then return true end
  end
  return false
end

local function label_of_path(path) return table.concat(path, ".") end

-- The metatable of v if v is an object of some class (a userdata, or a
-- table, with an unprotected metatable); nil otherwise.
local function class_mt(v)
  local t = type(v)
  if t ~= "userdata" and t ~= "table" then return nil end
  local mt = getmetatable(v)
  if type(mt) ~= "table" or is_module_table(v) then return nil end
  return mt
end

-- Method and metamethod names of a class, sorted, from its metatable.
function P.method_names(mt)
  local methods, metas = {}, {}
  local function add_table(t)
    for k, f in pairs(t) do
      if type(k) == "string" and type(f) == "function" then
        if k:sub(1, 2) == "__" then metas[k] = true else methods[k] = true end
      end
    end
  end
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then
    add_table(idx)
  elseif type(idx) == "function" then
    for i = 1, 255 do
      local name, v = debug.getupvalue(idx, i)
      if not name then break end
      if type(v) == "table" and not rawequal(v, mt) and not is_module_table(v) then add_table(v) end
    end
  end
  for k, f in pairs(mt) do
    if type(k) == "string" and k:sub(1, 2) == "__" and type(f) == "function" then metas[k] = true end
  end
  return sorted_keys(methods), sorted_keys(metas)
end

-- Makes an object from a maker description; raises what its calls raise.
function P.make(plan, maker)
  local r
  if maker.from == "function" then
    local f = P.resolve(maker.path)
    local a = C.FUNCTION_ARGS[maker.args]()
    r = table.pack(f(table.unpack(a, 1, a.n)))
  else
    local cls = plan.classes[maker.class]
    local o = P.make(plan, cls.maker)
    local f = P.method_of(o, maker.name, maker.meta)
    local a = C.METHOD_ARGS[maker.args]()
    r = table.pack(f(o, table.unpack(a, 1, a.n)))
  end
  return r[maker.pos]
end

function P.method_of(o, name, meta)
  if meta then return getmetatable(o)[name] end
  return o[name]
end

-- A well-formed call: it returned, or raised something other than a
-- complaint about its arguments.
local function well_formed(outcome, err)
  if outcome == "ok" then return true end
  if outcome ~= "typed" then return false end
  return err.kind ~= "ArgumentError" and err.kind ~= "TransferError"
end

-- `invoke(label, fn, ...)` runs fn(...) under the sweep's hang watch and
-- returns pcall's results.
function P.discover(invoke)
  local tide = require "tide"
  local plan = {modules = {}, functions = {}, classes = {}, returned = {}}
  local class_by_mt, known_fns = {}, {[C.FN] = true, [os.clock] = true}
  -- The standard library's functions are Lua's, not tide's (a pairs
  -- iterator may be `next`).
  for _, lib in ipairs{_G, string, table, math, io, os, utf8, coroutine, debug, package} do
    for _, f in pairs(lib) do
      if type(f) == "function" then known_fns[f] = true end
    end
  end

  local function note_results(r, maker, depth, label)
    for pos = 2, r.n do
      local v = r[pos]
      local mt = class_mt(v)
      if mt and not class_by_mt[mt] and depth <= MAX_CLASS_DEPTH then
        local name = type(rawget(mt, "__name")) == "string" and rawget(mt, "__name") or (label .. "#" .. (pos - 1))
        local m = {}
        for k, x in pairs(maker) do m[k] = x end
        m.pos = pos - 1
        plan.classes[#plan.classes + 1] = {name = name, maker = m, depth = depth}
        class_by_mt[mt] = #plan.classes
      elseif type(v) == "function" and not known_fns[v] and #plan.returned < MAX_RETURNED then
        local m = {}
        for k, x in pairs(maker) do m[k] = x end
        m.pos = pos - 1
        known_fns[v] = true
        local dup = false
        for _, rt in ipairs(plan.returned) do
          if rt.label == label then dup = true end
        end
        if not dup then plan.returned[#plan.returned + 1] = {label = label, maker = m} end
      end
    end
  end

  -- Modules, each also through the root's lazy field.
  for _, name in ipairs(P.module_names()) do
    local ok, mod = invoke("require " .. name, require, name)
    if ok and type(mod) == "table" then plan.modules[#plan.modules + 1] = name end
    local sub = name:match("^tide%.([%a][%w_]*)$")
    if sub then invoke("tide." .. sub, function() return tide[sub] end) end
  end

  -- Functions: module fields, and fields of plain tables in them (one level).
  for _, name in ipairs(plan.modules) do
    local mod = package.loaded[name]
    for _, k in ipairs(sorted_keys(mod)) do
      local v = rawget(mod, k)
      if type(v) == "function" then
        plan.functions[#plan.functions + 1] = {path = {name, k}}
        known_fns[v] = true
      elseif type(v) == "table" and not is_module_table(v) then
        for _, k2 in ipairs(sorted_keys(v)) do
          if type(rawget(v, k2)) == "function" then
            plan.functions[#plan.functions + 1] = {path = {name, k, k2}}
            known_fns[rawget(v, k2)] = true
          end
        end
      end
    end
  end
  for _, fn in ipairs(plan.functions) do
    local f, label = P.resolve(fn.path), label_of_path(fn.path)
    for ai, mk in ipairs(C.FUNCTION_ARGS) do
      local a = mk()
      if C.hazard_allows(fn.path[#fn.path], a) then
        local r = table.pack(invoke(label, f, table.unpack(a, 1, a.n)))
        local outcome = C.classify(r[1], r[2])
        if not fn.base and well_formed(outcome, r[2]) then fn.base = ai end
        if r[1] then
          note_results(r, {from = "function", path = fn.path, args = ai}, 1, label)
          break  -- a call that returned: its results are what this function makes
        end
      end
    end
  end

  -- Classes (the list grows while methods return objects of new classes).
  local i = 1
  while i <= #plan.classes do
    local cls = plan.classes[i]
    local ok, o = invoke(cls.name .. " (make)", P.make, plan, cls.maker)
    local mt = ok and class_mt(o)
    if mt then
      local methods, metas = P.method_names(mt)
      cls.methods = {}
      for _, list in ipairs{{methods, false}, {metas, true}} do
        for _, m in ipairs(list[1]) do
          local t = {name = m, meta = list[2]}
          cls.methods[#cls.methods + 1] = t
          local label = cls.name .. (t.meta and "." or ":") .. m
          for ai, mk in ipairs(C.METHOD_ARGS) do
            local r = table.pack(invoke(label, function()
              local obj = P.make(plan, cls.maker)
              local a = mk()
              return P.method_of(obj, m, t.meta)(obj, table.unpack(a, 1, a.n))
            end))
            local outcome = C.classify(r[1], r[2])
            if not t.base and well_formed(outcome, r[2]) then t.base = ai end
            if r[1] then
              note_results(r, {from = "method", class = i, name = m, meta = t.meta, args = ai}, cls.depth + 1, label)
              break
            end
          end
        end
      end
      cls.closers = {}
      for _, closer in ipairs(C.CLOSERS) do
        for _, t in ipairs(cls.methods) do
          if t.name == closer and not t.meta then cls.closers[#cls.closers + 1] = closer end
        end
      end
    else
      cls.methods, cls.closers = {}, {}
      cls.broken = true  -- its maker failed here: no methods to sweep
    end
    i = i + 1
  end
  return plan
end

-- ---- expanding the plan into calls -------------------------------------

-- Modes: "full" (every value at every position), "sample" (each value at
-- one position per target, rotating; every value as self), and
-- "sparse:N" (the sample's calls for one value in N, rotating with the
-- target, so each target still meets several kinds of value).
-- Returned functions (iterators mostly) ignore what they are given and
-- many block on an empty source: unless the sweep is full, a quarter of
-- the values suffice for them.
local function keep(mode, ti, j, returned)
  if mode == "full" then return true end
  local stride = (tonumber(mode:match("^sparse:(%d+)$")) or 1) * (returned and 4 or 1)
  return (ti + j) % stride == 0
end

local function positions(mode, ti, j, count)
  if mode == "full" then
    local all = {}
    for p = 1, count do all[p] = p end
    return all
  end
  return {((ti + j) % count) + 1}
end

function P.target_label(plan, t)
  if t.kind == "function" then return label_of_path(t.fn.path) end
  if t.kind == "returned" then return "function returned by " .. t.rt.label end
  return t.cls.name .. (t.m.meta and "." or ":") .. t.m.name
end

-- The targets in a fixed order: functions, methods and metamethods of each
-- class, then returned functions.
function P.targets(plan)
  local out = {}
  for _, fn in ipairs(plan.functions) do out[#out + 1] = {kind = "function", fn = fn, base = fn.base} end
  for ci, cls in ipairs(plan.classes) do
    for _, m in ipairs(cls.methods) do
      out[#out + 1] = {kind = "method", cls = cls, ci = ci, m = m, base = m.base}
    end
  end
  for _, rt in ipairs(plan.returned) do out[#out + 1] = {kind = "returned", rt = rt} end
  return out
end

-- A call: {t = target index, shape, pos, value (corpus index), closer}.
function P.calls(plan, mode, nvalues)
  local calls = {}
  local targets = P.targets(plan)
  local function add(c) calls[#calls + 1] = c end
  for ti, t in ipairs(targets) do
    local nargs = t.kind == "function" and 3 or 2
    for j = 1, nvalues do
      if keep(mode, ti, j, t.kind == "returned") then
        for _, p in ipairs(positions(mode, ti, j, nargs)) do add{t = ti, shape = "arg", pos = p, value = j} end
        if t.base then
          local base = (t.kind == "function" and C.FUNCTION_ARGS or C.METHOD_ARGS)[t.base]()
          for _, p in ipairs(positions(mode, ti, j, base.n + 1)) do add{t = ti, shape = "base", pos = p, value = j} end
        end
        if t.kind == "method" then add{t = ti, shape = "self", value = j} end
      end
    end
    if t.kind == "method" then
      add{t = ti, shape = "released"}
      for _, closer in ipairs(t.cls.closers) do add{t = ti, shape = "closed", closer = closer} end
    elseif t.kind == "returned" then
      add{t = ti, shape = "plain"}
    end
  end
  return calls, targets
end

-- ---- the plan as Lua source ---------------------------------------------

local function serialize(v, out)
  local t = type(v)
  if t == "table" then
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    for _, k in ipairs(keys) do
      out[#out + 1] = type(k) == "number" and ("[" .. k .. "]=") or ("[" .. string.format("%q", k) .. "]=")
      serialize(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  elseif t == "string" then
    out[#out + 1] = string.format("%q", v)
  else
    out[#out + 1] = tostring(v)
  end
end

function P.dump(plan)
  local out = {"return "}
  serialize(plan, out)
  return table.concat(out)
end

return P
