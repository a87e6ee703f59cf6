-- The end of every write (see write-begin.lua): bump the head, log the change, publish the
-- event, remember the mutation id, answer.

if op ~= 'create' then
  redis.call('HSET', KEYS[4], 'rev', revS, 'updatedAt', nowS)
end

-- What the write changed, as the log line and the event's change line both carry it.
local body = '"paths":[' .. table.concat(pathList, ',') .. '],"before":' .. joined(before) .. afterPart
-- A relay-made id ('~...', given a write sent without one) only serves the relay's resends:
-- the log and the event carry none, as for any write sent without an id.
local midPart = ''
if mid ~= '' and string.sub(mid, 1, 1) ~= '~' then midPart = ',"mutationId":' .. cjson.encode(mid) end

local change = '"revision":' .. revS .. ',"operation":"' .. op .. '","timestamp":' .. nowS .. midPart .. ',' .. body

-- The log may grow a quarter past its size before it is trimmed back, so that most writes
-- skip the LTRIM call (catch-up only ever gets more history from it).
local logSize = tonumber(ARGV[8])
if redis.call('LPUSH', KEYS[2], '{' .. change .. '}') > logSize + math.floor(logSize / 4) then
  redis.call('LTRIM', KEYS[2], 0, logSize - 1)
end

-- The event, as four lines (JSON never holds a raw newline): the instance, the metadata exactly
-- as subscribers receive it, the change (for the diff), and the data. Relays read the small
-- metadata line to route, and splice the data text into frames without parsing it.
local ident = '"service":' .. cjson.encode(service) .. ',"id":' .. cjson.encode(id)
-- An incarnation is a plain name (the relay's random one, or 'c' and digits): no escaping needed.
local incPart = ',"incarnation":"' .. inc .. '"'
local meta = '{"operation":"' .. op .. '",' .. ident .. ',"revision":' .. revS .. ',"timestamp":' .. nowS .. incPart .. midPart .. '}'
redis.call('PUBLISH', ARGV[7], ARGV[6] .. '\n' .. meta .. '\n{' .. body .. '}\n' .. dataJson)

-- The answer frame's document, as text the relay splices into its reply; `data` comes last
-- so the relay can find where it starts without parsing (service and id are plain names).
local result = 'null'
if op ~= 'delete' then
  result = '{' .. ident .. ',"revision":' .. revS .. ',"createdAt":' .. createdAt ..
    ',"updatedAt":' .. nowS .. incPart .. ',"data":' .. dataJson .. '}'
end
if mid ~= '' then
  local memo = 'deleted'
  if op ~= 'delete' then memo = revS end
  redis.call('SET', KEYS[3], memo, 'EX', tonumber(ARGV[9]))
end
return {1, result, revS, createdAt, nowS, inc}
