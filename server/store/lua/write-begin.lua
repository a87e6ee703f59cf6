-- One document write, atomically: replay a remembered mutation id, check existence, the
-- incarnation and the expected revision, apply the change with JSON.* commands, bump the
-- revision, remember the mutation id, append to the change log and publish the event. Redis
-- runs a script without interleaving, so no concurrent write can slip between the checks and
-- the change, and PUBLISH order is revision order.
--
-- A write script is this file, then the change (write-change.lua for any write, or
-- merge-change.lua for a merge whose keys JSONPath can name), then write-finish.lua, joined
-- into one script by redis.ts. The change leaves `before` (each covering path's value before,
-- as `[value]` or `[]`), `pathList` (their syncdoc paths as JSON, or null for the whole data),
-- `afterPart` and `dataJson` (the data after) for the finish; this file leaves `rev`,
-- `createdAt` and `inc` (the document's incarnation, or for a create the new one).
--
-- KEYS[1] the document's data (RedisJSON, the data object at the root: JSON.MERGE at the root
--         costs half what it does one level down)
-- KEYS[2] change log (list, newest first)
-- KEYS[3] mutation-id memo (string; unused when ARGV[5] is '')
-- KEYS[4] document head (hash: rev, deleted, createdAt, updatedAt, inc; plain fields are cheaper
--         to read and bump than JSON paths). `inc` is the incarnation, set by the create; a head
--         written before incarnations has none, and reads as 'c' .. createdAt.
-- ARGV: 1 op, 2 service, 3 id, 4 expectedRevision or '', 5 mutationId or '', 6 instance id,
--       7 channel, 8 change-log size, 9 mutation-id ttl (s), 10 max document bytes,
--       11 incarnation: for create the new document's (made by the relay), for the other writes
--          the one the write insists on, or '',
--       12.. op args
--         create/replace: 12 data JSON
--         merge:          12 patch JSON, 13 n, then n top-level keys of the patch
--         mutate:         12 n ops, then per op: name, segment count, segments..., value JSON or ''
-- Returns {1, documentJSON or 'null', revision, createdAt, updatedAt, incarnation}
--       | {2, remembered revision or 'deleted'} | {0, code, message, currentRevision}

local op, service, id = ARGV[1], ARGV[2], ARGV[3]
local expected, mid = ARGV[4], ARGV[5]

local fmt = function(n) return string.format('%.0f', n) end

-- A remembered mutation id holds only the revision its write made ('deleted' for a delete);
-- the relay rebuilds the first answer from the change log (remembering whole documents would
-- cost a copy of the document per write).
if mid ~= '' then
  local remembered = redis.call('GET', KEYS[3])
  if remembered then return {2, remembered} end
end

local head = redis.call('HMGET', KEYS[4], 'rev', 'deleted', 'createdAt', 'inc')
local rev, createdAt, inc = 0, '0', ARGV[11]
if head[1] then
  rev, createdAt = tonumber(head[1]), head[3] -- createdAt stays text: it is only copied out
  if op == 'create' then
    return {0, 'conflict', 'conflict: document ' .. service .. '/' .. id .. ' already exists', rev}
  end
  if head[2] == '1' then return {0, 'not_found', 'document ' .. service .. '/' .. id .. ' not found', rev} end
  -- A head from before incarnations: a name derived from what it has, the same at every read.
  inc = head[4] or ('c' .. createdAt)
  -- A write made against a document the store lost must not land on the one created since.
  if ARGV[11] ~= '' and ARGV[11] ~= inc then
    return {0, 'conflict', 'conflict: ' .. service .. '/' .. id .. ' was created again since this write was made (incarnation ' ..
      inc .. ', not ' .. ARGV[11] .. ')', rev}
  end
elseif op ~= 'create' then
  return {0, 'not_found', 'document ' .. service .. '/' .. id .. ' not found', 0}
end
if expected ~= '' and op ~= 'create' and tonumber(expected) ~= rev then
  return {0, 'conflict', 'conflict: ' .. service .. '/' .. id .. ' is at revision ' .. rev ..
    ', not the expected ' .. expected, rev}
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local newRev = rev + 1
-- Numbers become text once: Lua formats them with sprintf, which shows in Redis's profile.
local nowS, revS = fmt(now), fmt(newRev)

local function joined(parts) return '[' .. table.concat(parts, ',') .. ']' end
local function tooLarge(bytes) -- the answer to a change that left the document over the limit
  return {0, 'too_large', 'document is ' .. bytes .. ' bytes, over the limit of ' .. ARGV[10] .. ' bytes', rev}
end

-- A JSONPath bracket for an object key. RedisJSON's write commands do not undo escapes inside
-- quotes, so the key is quoted with the quote it does not contain; keys that contain a
-- backslash or both quotes never get here (paths.ts refuses them, merges cover the root).
local function jkey(seg)
  if not seg:find("'", 1, true) then return "['" .. seg .. "']" end
  return '["' .. seg .. '"]'
end
local function pkey(seg) -- a syncdoc path segment (`.` and `\` escaped)
  return (seg:gsub('\\', '\\\\'):gsub('%.', '\\.'))
end
