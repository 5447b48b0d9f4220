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

-- "day=version,..." for the days of a range: a cache built from them is valid while this is
-- unchanged (every write to a day increments its "<tag>:d:<day>:version").
local function range_signature(days)
  local signature = {}
  for start = 1, #days, 500 do
    local keys = {}
    for j = start, math.min(start + 499, #days) do
      keys[#keys + 1] = tag .. ':d:' .. days[j] .. ':version'
    end
    for j, version in ipairs(redis.call('MGET', unpack(keys))) do
      signature[#signature + 1] = days[start + j - 1] .. '=' .. (version or '0')
    end
  end
  return table.concat(signature, ',')
end

-- Whether the cache entry `cache` was built for `signature`.
local function cache_valid(cache, signature)
  return redis.call('GET', cache .. ':signature') == signature and redis.call('EXISTS', cache) == 1
end

local function remember(cache, signature)
  redis.call('SET', cache .. ':signature', signature, 'EX', 600)
  redis.call('EXPIRE', cache, 600)
end

-- Sums of the aggregate counters over `days` as a flat {field, value, ...} list, cached in
-- "<tag>:cache:agg:<first day>:<last day>" like the rankings; nil when a sum leaves the range
-- where Lua's doubles are exact (the caller then reads the days one by one).
local function cached_sums(days)
  local signature = range_signature(days)
  local cache = tag .. ':cache:agg:' .. days[1] .. ':' .. days[#days]
  if cache_valid(cache, signature) then
    return redis.call('HGETALL', cache)
  end
  local sums = {}
  for _, day in ipairs(days) do
    local pairs_list = redis.call('HGETALL', tag .. ':d:' .. day .. ':agg')
    for j = 1, #pairs_list, 2 do
      local sum = (sums[pairs_list[j]] or 0) + tonumber(pairs_list[j + 1])
      if sum > 9007199254740991 then
        return nil
      end
      sums[pairs_list[j]] = sum
    end
  end
  local out = {}
  for field, sum in pairs(sums) do
    out[#out + 1] = field
    out[#out + 1] = int(sum)
  end
  redis.call('DEL', cache)
  if #out > 0 then
    for start = 1, #out, 1000 do
      redis.call('HSET', cache, unpack(out, start, math.min(start + 999, #out)))
    end
    remember(cache, signature)
  end
  return out
end

-- The aggregate counters of a range as a flat {field, value, ...} list (a field may repeat;
-- the caller adds them up in 64-bit integers): the cached sums of every day but the newest,
-- and the newest day (usually the one still receiving downloads) as it is now.
local function range_aggregates(all_time, first, last)
  if all_time then
    return redis.call('HGETALL', tag .. ':all:agg')
  end
  local days = days_between(first, last)
  local out = {}
  if #days > 2 then
    local older = {}
    for j = 1, #days - 1 do
      older[j] = days[j]
    end
    local sums = cached_sums(older)
    if sums then
      for _, item in ipairs(sums) do
        out[#out + 1] = item
      end
      days = {days[#days]}
    end
  end
  for _, day in ipairs(days) do
    for _, item in ipairs(redis.call('HGETALL', tag .. ':d:' .. day .. ':agg')) do
      out[#out + 1] = item
    end
  end
  return out
end

-- The union of the day rankings `suffix` of `days` (several), cached like ranked_set's.
local function cached_union(days, suffix)
  local signature = range_signature(days)
  local cache = tag .. ':cache:' .. suffix .. ':' .. days[1] .. ':' .. days[#days]
  if not cache_valid(cache, signature) then
    local keys = {}
    for _, day in ipairs(days) do
      keys[#keys + 1] = tag .. ':d:' .. day .. ':' .. suffix
    end
    union_into(cache, keys)
    remember(cache, signature)
  end
  return cache
end

-- The sorted set holding `suffix` ("models", "authors:nlp", ...) for a range: the all-time
-- key, one day's key, or, for several days, their cached union. nil when the range has no days.
local function ranked_set(all_time, first, last, suffix)
  if all_time then
    return tag .. ':all:' .. suffix
  end
  local days = days_between(first, last)
  if #days == 0 then
    return nil
  end
  if #days == 1 then
    return tag .. ':d:' .. days[1] .. ':' .. suffix
  end
  return cached_union(days, suffix)
end

-- The n best members of the sum of two rankings (scores are minus downloads), in ranking
-- order, as {member, score, ...}: Fagin's threshold algorithm. Both are read best first, in
-- steps; each member seen gets its full score from the other ranking; reading stops when the
-- n-th best so far is strictly better than anything unseen can be (the sum of the two
-- frontiers), so ties at the cut are settled by member as everywhere else.
local function top_of_sum(a, b, n)
  local seen, best = {}, {}
  local depth, step = 0, math.max(2 * n, 64)
  while true do
    local frontier, exhausted = 0, true
    for _, pair in ipairs({{a, b}, {b, a}}) do
      local items = redis.call('ZRANGE', pair[1], depth, depth + step - 1, 'WITHSCORES')
      if #items > 0 then
        frontier = frontier + tonumber(items[#items])
      end
      if #items == 2 * step then
        exhausted = false
      end
      for j = 1, #items, 2 do
        local member = items[j]
        if not seen[member] then
          local other = tonumber(redis.call('ZSCORE', pair[2], member) or '0')
          seen[member] = true
          best[#best + 1] = {member, tonumber(items[j + 1]) + other}
        end
      end
    end
    table.sort(best, function(x, y)
      if x[2] ~= y[2] then
        return x[2] < y[2]
      end
      return x[1] < y[1]
    end)
    for j = #best, n + 1, -1 do
      best[j] = nil
    end
    if exhausted or (#best >= n and best[n][2] < frontier) then
      break
    end
    depth = depth + step
  end
  local out = {}
  for _, entry in ipairs(best) do
    out[#out + 1] = entry[1]
    out[#out + 1] = int(entry[2])
  end
  return out
end

-- Values (as stored strings) of the aggregate fields starting with `prefix` over the range: the
-- caller sums them exactly in 64-bit integers.
local function aggregate_values(all_time, first, last, prefix)
  local values = {}
  local pairs_list = range_aggregates(all_time, first, last)
  for j = 1, #pairs_list, 2 do
    if string.sub(pairs_list[j], 1, #prefix) == prefix then
      values[#values + 1] = pairs_list[j + 1]
    end
  end
  return values
end
