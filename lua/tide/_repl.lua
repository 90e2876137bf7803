-- The REPL's Lua half (host/runtime/repl.cpp reads lines and runs chunks):
-- how results are shown, and what Tab completes.
local M = {}

local MAX_DEPTH = 4     -- nested tables shown before "{...}"
local MAX_ITEMS = 30    -- entries of one table before "... (N more)"
local WIDTH = 78        -- a table that fits stays on one line

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"):gsub("\r", "\\r"))
end

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

-- Keys in a stable order: numbers first, then strings, then the rest.
local RANK = {number = 1, string = 2, boolean = 3}
local function key_less(a, b)
  local ra, rb = RANK[type(a)] or 4, RANK[type(b)] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local show

-- A tide object's line: its __tostring, plus a done Future's outcome.
local function show_userdata(v)
  local ok, text = pcall(tostring, v)
  text = ok and text or "userdata"
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__name") == "tide.Future" then
    local okd, done = pcall(v.done, v)
    if okd and done then
      local okr, r = pcall(function() return table.pack(v:result(0)) end)
      if okr then
        local parts = {}
        for i = 1, r.n do parts[i] = show(r[i], 2, {}, "") end
        return ("Future done: %s"):format(table.concat(parts, ", "))
      elseif v:cancelled() then
        return "Future cancelled"
      else
        return ("Future failed: %s"):format(tostring(v:exception(0)))
      end
    end
  end
  return text
end

local function show_table(t, depth, seen, indent)
  if seen[t] then return "<cycle>" end
  local mt = getmetatable(t)
  if type(mt) == "table" and rawget(mt, "__tostring") then return tostring(t) end  -- tide errors
  if depth > MAX_DEPTH then return "{...}" end
  seen[t] = true
  local keys, n = {}, #t
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  local items, count = {}, 0
  local inner = indent .. "  "
  for i = 1, n do
    count = count + 1
    if count > MAX_ITEMS then break end
    items[#items + 1] = show(rawget(t, i), depth + 1, seen, inner)
  end
  for _, k in ipairs(keys) do
    count = count + 1
    if count > MAX_ITEMS then break end
    local key = is_name(k) and k or ("[" .. show(k, depth + 1, seen, inner) .. "]")
    items[#items + 1] = key .. " = " .. show(rawget(t, k), depth + 1, seen, inner)
  end
  local total = n + #keys
  if total > MAX_ITEMS then items[#items + 1] = ("... (%d more)"):format(total - MAX_ITEMS) end
  seen[t] = nil
  if #items == 0 then return "{}" end
  local flat = "{" .. table.concat(items, ", ") .. "}"
  if #flat + #indent <= WIDTH and not flat:find("\n") then return flat end
  -- Several short one-line items share a line, up to the width.
  local lines, line = {}, nil
  for _, item in ipairs(items) do
    if line and not item:find("\n") and not line:find("\n") and #inner + #line + #item + 2 <= WIDTH then
      line = line .. ", " .. item
    else
      if line then lines[#lines + 1] = line end
      line = item
    end
  end
  lines[#lines + 1] = line
  return "{\n" .. inner .. table.concat(lines, ",\n" .. inner) .. "\n" .. indent .. "}"
end

function show(v, depth, seen, indent)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "table" then return show_table(v, depth, seen, indent) end
  if t == "userdata" then return show_userdata(v) end
  return tostring(v)
end

-- The results of one chunk, as the REPL prints them: tab-separated on one
-- line, or one per line when any of them spans several.
function M.show(...)
  local n = select("#", ...)
  local parts, multiline = {}, false
  for i = 1, n do
    parts[i] = show((select(i, ...)), 1, {}, "")
    multiline = multiline or parts[i]:find("\n") ~= nil
  end
  return table.concat(parts, multiline and "\n" or "\t")
end

-- ---- completion -------------------------------------------------------------

-- The names reachable under `v`: a table's keys (and its __index table's),
-- a userdata's methods (its metatable's __index table, or the method table
-- a tide class keeps as the __index closure's first upvalue).
local function names_of(v, methods_only)
  local out, seen = {}, {}
  local function add_table(t, want_fn)
    if type(t) ~= "table" then return end
    for k, val in next, t do
      if type(k) == "string" and not seen[k] and (not want_fn or type(val) == "function") then
        seen[k] = true
        out[#out + 1] = k
      end
    end
  end
  local mt = getmetatable(v)
  if type(v) == "table" then add_table(v, methods_only) end
  if type(mt) == "table" then
    local idx = rawget(mt, "__index")
    if type(idx) == "table" then
      add_table(idx, methods_only)
    elseif type(idx) == "function" and debug and debug.getupvalue then
      local _, up = debug.getupvalue(idx, 1)
      add_table(up, true)
    end
  end
  -- tide's root module loads its submodules on first access.
  if v == package.loaded.tide then
    for name in pairs(package.preload) do
      local sub = name:match("^tide%.([%a][%w_]*)$")
      if sub and not seen[sub] then seen[sub] = true; out[#out + 1] = sub end
    end
  end
  table.sort(out)
  return out
end

-- Candidates for the expression at the end of `line` (text before the
-- cursor): "pri" -> {"print"}, "string.fo" -> {"string.format"},
-- "q:pu" -> {"q:put", "q:put_nowait"}. Returns the whole expressions.
function M.complete(line)
  if type(line) ~= "string" then
    error(require("tide").error("ArgumentError", "bad argument #1 to 'complete' (string expected, got " .. type(line) .. ")"), 2)
  end
  local expr = line:match("[%w_%.:]*$") or ""
  local path, sep, partial = expr:match("^(.-)([%.:]?)([%w_]*)$")
  local base = _ENV
  if sep ~= "" then
    if path == "" then return {} end
    for part in path:gmatch("[^%.:]+") do
      if type(base) ~= "table" and type(base) ~= "userdata" then return {} end
      local ok, nxt = pcall(function() return base[part] end)
      if not ok or nxt == nil then return {} end
      base = nxt
    end
  end
  local out = {}
  for _, name in ipairs(names_of(base, sep == ":")) do
    if name:sub(1, #partial) == partial then
      out[#out + 1] = path .. sep .. name
    end
  end
  if sep == "" then  -- keywords complete too
    for _, kw in ipairs{"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                        "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
                        "then", "true", "until", "while"} do
      if kw:sub(1, #partial) == partial and #partial > 0 then out[#out + 1] = kw end
    end
  end
  return out
end

return M
