-- The change of any write (see write-begin.lua): create, replace, mutate, delete, and merges
-- of keys JSONPath cannot name.

-- Covering paths: every change this write makes lies under one of them, so reading them before
-- and after is enough to compute the diff (in the relay) without reading the whole document.
-- paths[i] is the syncdoc path of jpaths[i], or ROOT (false) for the whole data.
local ROOT = false
local paths, jpaths = {}, {}

local function index(seg) -- a canonical non-negative array index, as in paths.ts, else nil
  if seg == '0' or seg:match('^[1-9]%d?%d?%d?%d?%d?%d?%d?%d?$') then return tonumber(seg) end
  return nil
end
local function jtype(path)
  local r = redis.call('JSON.TYPE', KEYS[1], path)
  return r[1]
end
local function readAll() -- each part is `[value]`, or `[]` where the path is missing
  local out = {}
  for i, jp in ipairs(jpaths) do out[i] = redis.call('JSON.GET', KEYS[1], jp) end
  return out
end

local failure = nil -- {code, message} when the change cannot apply
local dirty = true -- whether the change may have written something (false: nothing to restore)
local before = {}

local function display(segs, upto)
  local parts = {}
  for s = 1, upto do parts[s] = pkey(segs[s]) end
  return table.concat(parts, '.')
end

local MAX_SAFE = 9007199254740991
local function unsafe(n) return n ~= n or n > MAX_SAFE or n < -MAX_SAFE end

-- Runs one mutate op on the live document; with dry = true it writes nothing and only finds
-- out whether the op can apply. Returns nil, or {code, message} when it cannot apply.
local function runOp(o, dry)
  local jp, n, missing = '$', #o.segs, false
  local function bad(message) return {'invalid', message} end
  for s = 1, n - 1 do -- walk to the parent; set/increment/append create missing objects
    local seg = o.segs[s]
    if missing then
      jp = jp .. jkey(seg)
    else
      local ty = jtype(jp)
      if ty == 'array' then
        local step = index(seg) and (jp .. '[' .. seg .. ']')
        if not step or not jtype(step) then
          if o.name == 'remove' then return nil end
          if not step then return bad(display(o.segs, s) .. ' is not an index of the array ' .. display(o.segs, s - 1)) end
          return bad(display(o.segs, s) .. ' is past the end of the array')
        end
        jp = step
      elseif ty == 'object' then
        local step = jp .. jkey(seg)
        if not jtype(step) then
          if o.name == 'remove' then return nil end
          if dry then missing = true else redis.call('JSON.SET', KEYS[1], step, '{}') end
        end
        jp = step
      else
        if o.name == 'remove' then return nil end
        return bad('cannot reach ' .. display(o.segs, n) .. ': ' .. display(o.segs, s - 1) .. ' is a ' .. tostring(ty))
      end
    end
  end
  if o.name == 'increment' and unsafe(tonumber(o.value)) then return bad('increment must be within +/-(2^53 - 1)') end
  if missing then return nil end -- (dry run) the parent would be created: the op applies
  local seg = o.segs[n]
  local ptype = jtype(jp)
  local target
  if ptype == 'array' then
    local idx = index(seg)
    local len = redis.call('JSON.ARRLEN', KEYS[1], jp)[1]
    if o.name == 'remove' then
      if idx and idx < len and not dry then redis.call('JSON.DEL', KEYS[1], jp .. '[' .. seg .. ']') end
      return nil
    end
    if idx == len then -- one past the end: the value is missing there, so it is appended
      local v = o.value
      if o.name == 'append' then v = '[' .. o.value .. ']' end
      if not dry then redis.call('JSON.ARRAPPEND', KEYS[1], jp, v) end
      return nil
    end
    if not idx or idx > len then
      return bad(display(o.segs, n) .. ': "' .. seg .. '" is not an index within the array (length ' .. len .. ')')
    end
    target = jp .. '[' .. seg .. ']'
  elseif ptype == 'object' then
    target = jp .. jkey(seg)
  else
    if o.name == 'remove' then return nil end
    return bad('cannot reach ' .. display(o.segs, n) .. ': ' .. display(o.segs, n - 1) .. ' is a ' .. tostring(ptype))
  end
  if o.name == 'set' then
    if not dry then redis.call('JSON.SET', KEYS[1], target, o.value) end
    return nil
  end
  if o.name == 'remove' then
    if not dry then redis.call('JSON.DEL', KEYS[1], target) end
    return nil
  end
  local ty = jtype(target)
  if o.name == 'increment' then
    if not ty then
      if not dry then redis.call('JSON.SET', KEYS[1], target, o.value) end
      return nil
    end
    if ty ~= 'integer' and ty ~= 'number' then
      return bad('cannot increment ' .. display(o.segs, n) .. ': it is a ' .. ty .. ', not a number')
    end
    local current = tonumber(redis.call('JSON.GET', KEYS[1], target):sub(2, -2))
    if unsafe(current + tonumber(o.value)) then
      return bad('cannot increment ' .. display(o.segs, n) .. ': the result would leave +/-(2^53 - 1)')
    end
    if not dry then redis.call('JSON.NUMINCRBY', KEYS[1], target, o.value) end
    return nil
  end
  if not ty then -- append to a missing field makes an array
    if not dry then redis.call('JSON.SET', KEYS[1], target, '[' .. o.value .. ']') end
    return nil
  end
  if ty ~= 'array' then
    return bad('cannot append to ' .. display(o.segs, n) .. ': it is a ' .. ty .. ', not an array')
  end
  if not dry then redis.call('JSON.ARRAPPEND', KEYS[1], target, o.value) end
  return nil
end

-- The change itself. redis.call raises on a command error (say, NUMINCRBY overflowing), and
-- scripts do not roll back, so the change runs under pcall and a failure restores the
-- covering paths below.
local function apply()
  if op == 'create' then
    redis.call('JSON.SET', KEYS[1], '$', ARGV[12])
    redis.call('HSET', KEYS[4], 'rev', 1, 'deleted', 0, 'createdAt', nowS, 'updatedAt', nowS, 'inc', inc)
    createdAt = nowS
    paths[1], jpaths[1] = ROOT, '$'
    before = {'[]'}
  elseif op == 'replace' then
    paths[1], jpaths[1] = ROOT, '$'
    before = readAll()
    redis.call('JSON.SET', KEYS[1], '$', ARGV[12])
  elseif op == 'merge' then
    local n = tonumber(ARGV[13])
    if n < 0 then -- a key that cannot be named in a JSONPath: cover the whole document
      paths[1], jpaths[1] = ROOT, '$'
    end
    for i = 1, n do
      paths[i], jpaths[i] = pkey(ARGV[13 + i]), '$' .. jkey(ARGV[13 + i])
    end
    before = readAll()
    redis.call('JSON.MERGE', KEYS[1], '$', ARGV[12])
  elseif op == 'mutate' then
    -- Parse the ops.
    local ops, a = {}, 13
    for i = 1, tonumber(ARGV[12]) do
      local o = { name = ARGV[a], segs = {} }
      local nseg = tonumber(ARGV[a + 1])
      for s = 1, nseg do o.segs[s] = ARGV[a + 1 + s] end
      o.value = ARGV[a + 2 + nseg]
      a = a + 3 + nseg
      ops[i] = o
    end
    -- Pass 1, on the state before any op: each op's covering path is its own path, cut at the
    -- first missing step (a created parent counts as added whole) or at an array that the op
    -- splices or grows (its later indices shift, so the whole array is compared).
    local cover = {}
    for _, o in ipairs(ops) do
      local jp, kept, cutjp = '$', 0, '$'
      for s, seg in ipairs(o.segs) do
        local ty = jtype(jp)
        if ty == 'array' then
          local idx = index(seg)
          if not idx then break end
          if idx >= redis.call('JSON.ARRLEN', KEYS[1], jp)[1] or (s == #o.segs and o.name == 'remove') then break end
          jp = jp .. '[' .. seg .. ']'
        elseif ty == 'object' then
          jp = jp .. jkey(seg)
          if not jtype(jp) then kept, cutjp = s, jp; break end
        else
          break
        end
        kept, cutjp = s, jp
      end
      cover[#cover + 1] = { n = kept, jp = cutjp, segs = o.segs }
    end
    -- Keep only covering paths that no other one contains.
    table.sort(cover, function(x, y) return x.n < y.n end)
    local kept = {}
    for _, c in ipairs(cover) do
      local inside = false
      for _, k in ipairs(kept) do
        local prefix = true
        for s = 1, k.n do if k.segs[s] ~= c.segs[s] then prefix = false; break end end
        if prefix then inside = true; break end
      end
      if not inside then kept[#kept + 1] = c end
    end
    for i, c in ipairs(kept) do
      local parts = {}
      for s = 1, c.n do parts[s] = pkey(c.segs[s]) end
      if c.n == 0 then paths[i] = ROOT else paths[i] = table.concat(parts, '.') end
    jpaths[i] = c.jp
    end
    before = readAll()
    -- Ops on a top-level field no earlier op touches see the state as it is now, so they are
    -- checked before anything is written: most failures then need no rollback (a rollback
    -- writes back JSON text, and RedisJSON does not read every decimal back exactly).
    local seen = {}
    dirty = false
    for _, o in ipairs(ops) do
      if not seen[o.segs[1]] then
        seen[o.segs[1]] = true
        failure = runOp(o, true)
        if failure then return end
      end
    end
    dirty = true
    for _, o in ipairs(ops) do
      failure = runOp(o, false)
      if failure then return end
    end
  elseif op == 'delete' then
    paths[1], jpaths[1] = ROOT, '$'
    before = readAll()
    redis.call('HSET', KEYS[4], 'deleted', 1)
  end
end
local applied, err = pcall(apply)
if not applied then
  local reason = type(err) == 'table' and err.err or tostring(err)
  failure = failure or {'invalid', 'the change cannot apply: ' .. tostring(reason)}
end

-- Scripts do not roll back on error, so a failed mutate or an oversized result puts every
-- covering path back as it was read before the change.
local function restore()
  if not dirty then return end
  if op == 'create' then redis.call('DEL', KEYS[1], KEYS[4]); return end
  for i, jp in ipairs(jpaths) do
    if before[i] == nil then -- failed before reading: nothing was written under this path
    elseif before[i] == '[]' then
      redis.call('JSON.DEL', KEYS[1], jp)
    else
      redis.call('JSON.SET', KEYS[1], jp, before[i]:sub(2, -2))
    end
  end
end

if failure then
  restore()
  return {0, failure[1], failure[2], rev}
end

local dataJson = redis.call('JSON.GET', KEYS[1]) -- no path: the root itself, not wrapped in [ ]
if op ~= 'delete' and #dataJson > tonumber(ARGV[10]) then
  restore()
  return tooLarge(#dataJson)
end

-- The values after the write: a merge's follow from its patch (the relay derives them), and
-- create, replace and delete cover the whole data, which is in hand; only mutate reads them.
local afterPart
if op == 'merge' then
  afterPart = ',"after":null,"patch":' .. ARGV[12]
elseif op == 'mutate' then
  afterPart = ',"after":' .. joined(readAll())
else
  afterPart = ',"after":[[' .. dataJson .. ']]'
end
local pathList = {}
for i = 1, #jpaths do
  if paths[i] == ROOT then pathList[i] = 'null' else pathList[i] = cjson.encode(paths[i]) end
end
