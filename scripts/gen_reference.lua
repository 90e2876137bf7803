-- Generates lua/REFERENCE.md from the LuaLS annotation files in lua/meta/
-- (luv's docs.lua model, the other way round: the annotations editors read
-- are the one source, and the reference is made from them).
--
--   tide scripts/gen_reference.lua [OUT]     (or lua5.4) writes OUT, by
--                                            default lua/REFERENCE.md
--   loadfile("scripts/gen_reference.lua")("--library")  returns the parser
--                                            and renderer (the specs use it)
--
-- The annotation format it reads (the LuaLS subset tide's files use):
--   ---@meta tide.x            first line: the module's name
--   ---Text                    description lines of the next declaration
--   ---@class Name[: Parent]   a class; followed by `local V = {}` or
--   ---@field name[?] type desc  `P.x = {}` (V or P.x then names it), or
--                              by a blank line (an options class)
--   ---@alias Name             then `---| value # desc` lines
--   ---@param name[?] type desc, ---@return type [name] [#] desc,
--   ---@overload fun(...), ---@type T, ---@private (left out of the reference)
--   function P.f(args) end     a module function (P names the module's
--                              class) or a class's static function
--   function V:m(args) end     a method of V's class
--   P.NAME = value             a module field (with ---@type)
-- A declaration's doc block must end right above it; free text is plain
-- `--` comments. Anything the parser cannot attach is an error, so a
-- mistake fails the reference spec instead of vanishing from the reference.
local M = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- ---- types -----------------------------------------------------------------

-- Skips a bracketed group starting at s[i] (one of ( < { [ ), honouring
-- nesting and quoted strings; returns the index after its closing bracket.
local CLOSE = {["("] = ")", ["<"] = ">", ["{"] = "}", ["["] = "]"}
local function skip_group(s, i)
  local stack = {CLOSE[s:sub(i, i)]}
  i = i + 1
  while i <= #s and #stack > 0 do
    local c = s:sub(i, i)
    if c == '"' or c == "'" then
      local j = s:find(c, i + 1, true)
      if not j then return nil end
      i = j
    elseif CLOSE[c] then
      stack[#stack + 1] = CLOSE[c]
    elseif c == stack[#stack] then
      stack[#stack] = nil
    end
    i = i + 1
  end
  if #stack > 0 then return nil end
  return i
end

-- Reads one LuaLS type expression from s at i (unions, `?`, `[]`,
-- generics, `fun(...): ret`, literals, tables). Returns the type text and
-- the index after it, or nil when there is no type there.
local function read_type(s, i)
  local start = s:find("%S", i)
  if not start then return nil end
  i = start
  while true do
    i = s:find("%S", i) or #s + 1
    local c = s:sub(i, i)
    if c == '"' or c == "'" or c == "`" then
      local j = s:find(c, i + 1, true)
      if not j then return nil end
      i = j + 1
    elseif s:find("^fun%(", i) then
      i = skip_group(s, i + 3)
      if not i then return nil end
      local colon = s:match("^%s*:()", i)
      if colon then
        local _, after = read_type(s, colon)
        if not after then return nil end
        i = after
      end
    elseif c == "(" or c == "{" then
      i = skip_group(s, i)
      if not i then return nil end
    else
      local j = s:match("^[%w_%.%*]+()", i)
      if not j then return nil end
      i = j
      if s:sub(i, i) == "<" then
        i = skip_group(s, i)
        if not i then return nil end
      end
    end
    while s:sub(i, i + 1) == "[]" do i = i + 2 end
    if s:sub(i, i) == "?" then i = i + 1 end
    local bar = s:match("^%s*|()", i)
    if not bar then break end
    i = bar
  end
  return trim(s:sub(start, i - 1)), i
end
M.read_type = read_type

-- ---- parsing ---------------------------------------------------------------

local function new_model()
  return {modules = {}, classes = {}, errors = {}}
end

-- `---@param name[?] type desc`
local function parse_param(rest)
  local name, opt, after = rest:match("^%s*([%w_%.]+)(%??)()")
  if not name then return nil end
  local ty, after_type = read_type(rest, after)
  if not ty then return nil end
  return {name = name, optional = opt == "?" or ty:sub(-1) == "?", type = ty, desc = trim(rest:sub(after_type))}
end

-- `---@return type [name] [# desc]`
local function parse_return(rest)
  local ty, after = read_type(rest, 1)
  if not ty then return nil end
  local tail = trim(rest:sub(after))
  local name
  if tail:sub(1, 1) == "#" then
    tail = trim(tail:sub(2))
  else
    local n, more = tail:match("^([%a_][%w_]*)()")
    if n then
      name, tail = n, trim(tail:sub(more))
      if tail:sub(1, 1) == "#" then tail = trim(tail:sub(2)) end
    end
  end
  return {type = ty, name = name, desc = tail}
end

-- `---@field [scope] name[?] type desc` (name may be `[type]`)
local function parse_field(rest)
  rest = rest:gsub("^%s*(%a+)%s+", function(w)
    if w == "private" or w == "protected" or w == "public" or w == "package" then return "" end
  end, 1)
  local name, opt, after = rest:match("^%s*(%b[])(%??)()")
  if not name then name, opt, after = rest:match("^%s*([%a_][%w_]*)(%??)()") end
  if not name then return nil end
  local ty, after_type = read_type(rest, after)
  if not ty then return nil end
  return {name = name, optional = opt == "?", type = ty, desc = trim(rest:sub(after_type))}
end

-- `---| value # desc` (an alias's member)
local function parse_alias_value(rest)
  local ty, after = read_type(rest, 1)
  if not ty then return nil end
  local desc = trim(rest:sub(after)):gsub("^#%s*", "")
  return {value = ty, desc = desc}
end

local function add_error(model, file, line, msg)
  model.errors[#model.errors + 1] = string.format("%s:%d: %s", file, line, msg)
end

local function module_of(model, name, file)
  local m = model.modules[name]
  if not m then
    m = {name = name, file = file, desc = "", fields = {}, functions = {}, types = {}}
    model.modules[name] = m
  end
  return m
end

local function params_of(list)
  local out = {}
  for p in list:gmatch("[^,%s]+") do out[#out + 1] = p end
  return out
end

-- Parses one annotation file's text into `model` (a table from new_model,
-- or a fresh one); returns the model. Problems go to model.errors.
function M.parse_text(text, file, model)
  model = model or new_model()
  local vars = {}    -- a local name or dotted path -> the class it holds
  local meta         -- this file's module
  local block        -- the doc block being read
  local n = 0
  local function err(msg) add_error(model, file, n, msg) end

  local function desc_of(b) return trim(table.concat(b.desc, " ")) end

  local function tag(b, name) for _, t in ipairs(b.tags) do if t.tag == name then return t end end end

  -- A class from the block's @class tag; `holder` names it in later code.
  local function declare_class(b, holder)
    local t = tag(b, "class")
    local name, parent = t.rest:match("^%s*([%w_%.]+)%s*:%s*([%w_%.]+)")
    if not name then name = t.rest:match("^%s*([%w_%.]+)") end
    if not name then return err("@class needs a name") end
    if holder then vars[holder] = name end
    if not meta then return err("@class before ---@meta") end
    if name == meta.name then  -- the module's own class: its fields are the module's
      meta.desc = desc_of(b)
      if meta.desc == "" then err("module " .. name .. " has no description") end
      for _, f in ipairs(b.fields) do meta.fields[#meta.fields + 1] = f end
      return
    end
    if model.classes[name] then return err("class " .. name .. " declared twice") end
    local c = {kind = "class", name = name, parent = parent, desc = desc_of(b), fields = b.fields,
               methods = {}, module = meta.name, file = file, private = tag(b, "private") ~= nil}
    if c.desc == "" then err("class " .. name .. " has no description") end
    model.classes[name] = c
    meta.types[#meta.types + 1] = c
  end

  local function declare_alias(b)
    local t = tag(b, "alias")
    local name = t.rest:match("^%s*([%w_%.]+)")
    if not name or not meta then return err("@alias needs a name, after ---@meta") end
    local a = {kind = "alias", name = name, desc = desc_of(b), values = b.alias_values,
               type = trim(t.rest:sub(#t.rest:match("^%s*[%w_%.]+") + 1))}
    if a.desc == "" then err("alias " .. name .. " has no description") end
    meta.types[#meta.types + 1] = a
  end

  -- The block ends without a declaration under it (a blank line, a plain
  -- comment, the end of the file).
  local function end_block()
    local b = block
    block = nil
    if not b then return end
    if tag(b, "alias") then return declare_alias(b) end
    if tag(b, "class") then return declare_class(b, nil) end
    err("documentation attached to nothing (end it right above a declaration)")
  end

  local function declare_function(b, owner_path, sep, name, arglist)
    local owner = vars[owner_path] or owner_path
    local f = {name = name, params = params_of(arglist), desc = b and desc_of(b) or "", doc_params = {},
               returns = {}, overloads = {}, private = b and tag(b, "private") ~= nil, method = sep == ":"}
    if not b or f.desc == "" then err("function " .. owner_path .. sep .. name .. " has no description") end
    for _, t in ipairs(b and b.tags or {}) do
      if t.tag == "param" then
        local p = parse_param(t.rest)
        if not p then err("cannot read @param" .. t.rest) else f.doc_params[#f.doc_params + 1] = p end
      elseif t.tag == "return" then
        local r = parse_return(t.rest)
        if not r then err("cannot read @return" .. t.rest) else f.returns[#f.returns + 1] = r end
      elseif t.tag == "overload" then
        f.overloads[#f.overloads + 1] = trim(t.rest)
      end
    end
    -- Every argument documented, in order, and nothing else.
    local documented = {}
    for i, p in ipairs(f.doc_params) do
      documented[p.name] = true
      if f.params[i] ~= p.name then
        err(string.format("%s: @param %s does not match argument %d (%s)", name, p.name, i, tostring(f.params[i])))
      end
      if p.desc == "" then err(name .. ": @param " .. p.name .. " has no description") end
    end
    for _, a in ipairs(f.params) do
      if not documented[a] then err(name .. ": argument " .. a .. " has no @param") end
    end
    if sep == ":" then
      local c = model.classes[owner]
      if not c then return err("method " .. name .. " of unknown class " .. owner) end
      f.class = c.name
      c.methods[#c.methods + 1] = f
    elseif meta and owner == meta.name then
      f.module = meta.name
      meta.functions[#meta.functions + 1] = f
    else
      local c = model.classes[owner]
      if not c then return err("function " .. owner_path .. "." .. name .. " belongs to no module or class") end
      f.class = c.name
      f.static = true
      c.methods[#c.methods + 1] = f
    end
  end

  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    local doc = line:match("^%-%-%-(.*)$")
    if n == 1 or (not meta and line:match("^%-%-%-@meta")) then
      local name = line:match("^%-%-%-@meta%s+([%w_%.]+)")
      if not name then err("the first line must be ---@meta <module>") else meta = module_of(model, name, file) end
    elseif doc and not doc:match("^%-") then
      block = block or {desc = {}, tags = {}, fields = {}, alias_values = {}}
      local tname, rest = doc:match("^%s*@(%w+)(.*)$")
      if tname == "field" then
        local f = parse_field(rest)
        if not f then err("cannot read @field" .. rest)
        else
          if f.desc == "" then err("field " .. f.name .. " has no description") end
          block.fields[#block.fields + 1] = f
        end
      elseif tname then
        block.tags[#block.tags + 1] = {tag = tname, rest = rest}
      elseif doc:match("^%s*|") then
        local v = parse_alias_value(doc:match("^%s*|(.*)$"))
        if not v then err("cannot read alias value: " .. doc) else block.alias_values[#block.alias_values + 1] = v end
      else
        block.desc[#block.desc + 1] = trim(doc)
      end
    elseif trim(line) == "" or line:match("^%s*%-%-") then
      end_block()
    else
      local owner, sep, fname, args = line:match("^function%s+([%w_%.]+)([%.:])([%w_]+)%s*%((.-)%)")
      local lvar = line:match("^local%s+([%a_][%w_]*)%s*=")
      local path = line:match("^([%a_][%w_%.]*)%s*=")
      if owner then
        declare_function(block, owner, sep, fname, args)
        block = nil
      elseif block and tag(block, "class") and (lvar or path) then
        declare_class(block, lvar or path)
        block = nil
      elseif path and block and meta then  -- a module field: P.NAME = value
        local owner_path, fieldname = path:match("^(.*)%.([%w_]+)$")
        local t = tag(block, "type")
        if not owner_path or (vars[owner_path] or owner_path) ~= meta.name then
          err("assignment " .. path .. " is not a field of " .. meta.name)
        elseif not t then
          err("field " .. path .. " needs ---@type")
        else
          local d = desc_of(block)
          if d == "" then err("field " .. path .. " has no description") end
          meta.fields[#meta.fields + 1] = {name = fieldname, type = trim(t.rest), desc = d}
        end
        block = nil
      elseif line:match("^return") or lvar or path then
        end_block()
      else
        end_block()
        err("unexpected line: " .. line)
      end
    end
  end
  end_block()
  if not meta then add_error(model, file, 1, "no ---@meta line") end
  return model
end

-- Every lua/meta/**/*.lua under `root`, sorted.
function M.meta_files(root)
  local p = assert(io.popen("find '" .. root:gsub("'", "'\\''") .. "/lua/meta' -type f -name '*.lua' 2>/dev/null"))
  local files = {}
  for f in p:lines() do files[#files + 1] = f end
  p:close()
  table.sort(files)
  return files
end

-- Parses every annotation file under `root`; returns the model.
function M.parse_tree(root)
  local model = new_model()
  for _, path in ipairs(M.meta_files(root)) do
    local f = assert(io.open(path, "r"))
    local text = f:read("a")
    f:close()
    M.parse_text(text, path:sub(#root + 2), model)
  end
  if next(model.modules) == nil then model.errors[#model.errors + 1] = root .. "/lua/meta: no annotation files" end
  return model
end

-- ---- rendering -------------------------------------------------------------

local function slug(s) return (s:lower():gsub("[^%w%- _]", ""):gsub(" ", "-")) end
local function cell(s) return (s:gsub("|", "\\|")) end
local function code(s)
  local ticks = s:find("`", 1, true) and "`` " or "`"
  return ticks .. s .. (ticks == "`" and "`" or " ``")
end

local function signature(f, prefix)
  local args = {}
  local optional = {}
  for _, p in ipairs(f.doc_params) do optional[p.name] = p.optional end
  for i, a in ipairs(f.params) do args[i] = optional[a] and ("[" .. a .. "]") or a end
  local s = prefix .. f.name .. "(" .. table.concat(args, ", ") .. ")"
  if #f.returns > 0 then
    local rs = {}
    for i, r in ipairs(f.returns) do rs[i] = r.type end
    s = s .. " -> " .. table.concat(rs, ", ")
  end
  return s
end

local function render_function(out, f, prefix)
  out[#out + 1] = "#### " .. code(signature(f, prefix))
  out[#out + 1] = ""
  out[#out + 1] = f.desc
  out[#out + 1] = ""
  local items = 0
  for _, p in ipairs(f.doc_params) do
    out[#out + 1] = string.format("- %s (%s%s): %s", code(p.name), code(p.type), p.optional and ", optional" or "", p.desc)
    items = items + 1
  end
  for _, r in ipairs(f.returns) do
    local what = r.name and (" *" .. r.name .. "*") or ""
    out[#out + 1] = string.format("- returns %s%s%s", code(r.type), what, r.desc ~= "" and (": " .. r.desc) or "")
    items = items + 1
  end
  for _, o in ipairs(f.overloads) do
    out[#out + 1] = "- also callable as " .. code(o)
    items = items + 1
  end
  if items > 0 then out[#out + 1] = "" end
end

local function render_fields(out, fields, prefix)
  for _, f in ipairs(fields) do
    out[#out + 1] = string.format("- %s (%s%s): %s", code(prefix .. f.name), code(f.type),
                                  f.optional and ", may be nil" or "", f.desc)
  end
  if #fields > 0 then out[#out + 1] = "" end
end

local function short_name(class) return class:match("([%w_]+)$") end

local function render_type(out, t)
  if t.private then return end
  if t.kind == "alias" then
    out[#out + 1] = "### " .. code(t.name)
    out[#out + 1] = ""
    out[#out + 1] = t.desc
    out[#out + 1] = ""
    if #t.values > 0 then
      out[#out + 1] = "| value | meaning |"
      out[#out + 1] = "| --- | --- |"
      for _, v in ipairs(t.values) do out[#out + 1] = "| " .. code(cell(v.value)) .. " | " .. cell(v.desc) .. " |" end
      out[#out + 1] = ""
    elseif t.type ~= "" then
      out[#out + 1] = "Type: " .. code(t.type)
      out[#out + 1] = ""
    end
    return
  end
  out[#out + 1] = "### Class " .. code(t.name)
  out[#out + 1] = ""
  out[#out + 1] = t.desc
  out[#out + 1] = ""
  if t.parent then
    out[#out + 1] = "Has every field and method of " .. code(t.parent) .. "."
    out[#out + 1] = ""
  end
  render_fields(out, t.fields, "")
  for _, f in ipairs(t.methods) do
    if not f.private then render_function(out, f, short_name(t.name) .. (f.static and "." or ":")) end
  end
end

-- The reference as Markdown text.
function M.render(model)
  local names = {}
  for name in pairs(model.modules) do names[#names + 1] = name end
  table.sort(names)
  local out = {
    "# tide reference",
    "",
    "Every tide module, function, method, option and error kind. Generated from the LuaLS",
    "annotations in `lua/meta/` by `scripts/gen_reference.lua`: do not edit this file; edit the",
    "annotations and run `tide scripts/gen_reference.lua` (`tests/lua/reference_spec.lua` fails",
    "while it is out of date). Optional arguments are in brackets; a timeout is in seconds, nil",
    "waits forever. Errors are described under `tide.Error` and `tide.ErrorKind`.",
    "",
  }
  local links = {}
  for i, name in ipairs(names) do links[i] = "[" .. name .. "](#" .. slug(name) .. ")" end
  out[#out + 1] = "Modules: " .. table.concat(links, " · ")
  out[#out + 1] = ""
  for _, name in ipairs(names) do
    local m = model.modules[name]
    out[#out + 1] = "## " .. name
    out[#out + 1] = ""
    out[#out + 1] = m.desc
    out[#out + 1] = ""
    out[#out + 1] = "`require \"" .. name .. "\"` · annotations: `" .. m.file .. "`"
    out[#out + 1] = ""
    render_fields(out, m.fields, name .. ".")
    local public = {}
    for _, f in ipairs(m.functions) do if not f.private then public[#public + 1] = f end end
    if #public > 0 then
      out[#out + 1] = "### Functions"
      out[#out + 1] = ""
    end
    for _, f in ipairs(public) do render_function(out, f, name .. ".") end
    for _, t in ipairs(m.types) do render_type(out, t) end
  end
  return (table.concat(out, "\n"):gsub("\n*$", "\n"))
end

-- Parses `root`'s annotations and renders them; raises listing every
-- problem found.
function M.generate(root)
  local model = M.parse_tree(root)
  if #model.errors > 0 then error("annotation errors:\n  " .. table.concat(model.errors, "\n  "), 0) end
  return M.render(model)
end

if ... == "--library" then return M end

-- ---- command line ----------------------------------------------------------
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = script_dir .. "/.."
local out_path = (...) or (root .. "/lua/REFERENCE.md")
local ok, text = pcall(M.generate, root)
if not ok then
  io.stderr:write(tostring(text), "\n")
  os.exit(1)
end
local f = assert(io.open(out_path, "w"))
f:write(text)
f:close()
print("wrote " .. out_path)
