-- Helpers shared by every hubstats script; RedisStore prepends this file to each of them.
--
-- Every script runs on one logical shard. ARGV[1] is the shard's key tag ("<prefix>:{<n>}")
-- and KEYS[1] is "<tag>:days", so the call is routed to the shard's slot. All keys a script
-- touches start with the tag and therefore live in that one slot.
--
-- Counts travel as decimal strings and are formatted with int(): Lua numbers are doubles,
-- exact up to 2^53, and Redis would otherwise format them with %.14g.

local tag = ARGV[1]

local function int(x)
  return string.format('%.0f', x)
end

local function split_lines(text)
  local lines = {}
  for line in string.gmatch(text, '[^\n]+') do
    lines[#lines + 1] = line
  end
  return lines
end

-- A stored model class: "<modality>\n<size field>\n<task field>\n<arch field>\n<lib field>".
local function parse_class(encoded)
  local lines = split_lines(encoded)
  return lines[1], {lines[2], lines[3], lines[4], lines[5]}
end

-- Days with data between two ZRANGEBYLEX bounds ("-", "+" or "[YYYY-MM-DD").
local function days_between(first, last)
  return redis.call('ZRANGEBYLEX', tag .. ':days', first, last)
end

-- ZUNIONSTORE dest over many keys, in chunks (Lua's unpack has a stack limit).
local function union_into(dest, keys)
  redis.call('DEL', dest)
  local chunk = 500
  for start = 1, #keys, chunk do
    local part = {dest}
    for j = start, math.min(start + chunk - 1, #keys) do
      part[#part + 1] = keys[j]
    end
    redis.call('ZUNIONSTORE', dest, #part, unpack(part))
  end
end

-- The sorted set holding `suffix` ("models", "authors:nlp", ...) for a range: the all-time
-- key, one day's key, or the scratch key "<tag>:tmp" holding their union (scripts run one at a
-- time, so one scratch key per shard is enough; the caller deletes it before returning).
-- Returns the key and whether it is the scratch key; nil when the range has no days.
local function ranked_set(all_time, first, last, suffix)
  if all_time then
    return tag .. ':all:' .. suffix, false
  end
  local days = days_between(first, last)
  if #days == 0 then
    return nil, false
  end
  if #days == 1 then
    return tag .. ':d:' .. days[1] .. ':' .. suffix, false
  end
  local keys = {}
  for _, day in ipairs(days) do
    keys[#keys + 1] = tag .. ':d:' .. day .. ':' .. suffix
  end
  union_into(tag .. ':tmp', keys)
  return tag .. ':tmp', true
end

-- Values (as stored strings) of the aggregate fields starting with `prefix` in the range's
-- aggregate hashes, one per field and day: the caller sums them exactly in 64-bit integers.
local function aggregate_values(all_time, first, last, prefix)
  local scopes = {}
  if all_time then
    scopes[1] = 'all'
  else
    for _, day in ipairs(days_between(first, last)) do
      scopes[#scopes + 1] = 'd:' .. day
    end
  end
  local values = {}
  for _, scope in ipairs(scopes) do
    local pairs_list = redis.call('HGETALL', tag .. ':' .. scope .. ':agg')
    for j = 1, #pairs_list, 2 do
      if string.sub(pairs_list[j], 1, #prefix) == prefix then
        values[#values + 1] = pairs_list[j + 1]
      end
    end
  end
  return values
end
