-- Applies one shard's share of a commit window atomically, classifying inside Redis. RedisStore
-- normally applies windows as WATCH/MULTI/EXEC transactions built by the server; it falls back
-- to this script when a shard keeps changing under the transaction (a catalog sync upserting
-- the same shard): a script cannot be interrupted, so it always goes in. Both write the same.
--
-- ARGV: tag, unknown class, limit, contribution count, then per contribution (a batch whose
--   events are in this delta): producer, sequence, mark TTL (seconds); then author count, then
--   per author: author, its total in this delta; then model count, then per model: id, author,
--   total, -total, day count, then per day: day, count, -count, revision count, then per
--   revision: revision, count.
-- Returns {"conflict", producer, sequence, ...} when the shard's mark of a contribution's
-- producer is already at or past its sequence (an earlier attempt applied that batch here):
-- nothing is written. Otherwise {"applied", authors...}: the authors whose events were left out
-- because their all-time downloads would pass `limit`.

local unknown_class, limit = ARGV[2], tonumber(ARGV[3])
local i = 5  -- Next argument.
local marks, conflicts = {}, {}
for _ = 1, tonumber(ARGV[4]) do
  local producer, sequence, ttl = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  if tonumber(redis.call('GET', tag .. ':applied:' .. producer) or '0') >= tonumber(sequence) then
    conflicts[#conflicts + 1] = producer
    conflicts[#conflicts + 1] = sequence
  end
  local best = marks[producer]
  if not best or tonumber(sequence) > tonumber(best[1]) then
    marks[producer] = {sequence, ttl}
  end
end
if #conflicts > 0 then
  local out = {'conflict'}
  for _, item in ipairs(conflicts) do
    out[#out + 1] = item
  end
  return out
end

local skip, overflowing = {}, {}
for _ = 1, tonumber(ARGV[i]) do
  local author, downloads = ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 2
  local current = -(tonumber(redis.call('ZSCORE', tag .. ':all:authors', author)) or 0)
  if current + downloads > limit then
    skip[author] = true
    overflowing[#overflowing + 1] = author
  end
end
i = i + 1
local model_count = tonumber(ARGV[i])
i = i + 1

local classes, sums, author_sums, days = {}, {}, {}, {}
local function class_of(encoded)
  local class = classes[encoded]
  if not class then
    local modality, fields = parse_class(encoded)
    class = {modality = modality, fields = fields}
    classes[encoded] = class
  end
  return class
end
local function add(scope, id, author, class, downloads, minus)
  local base = tag .. ':' .. scope
  redis.call('ZINCRBY', base .. ':models', minus, id)
  redis.call('ZINCRBY', base .. ':models:' .. class.modality, minus, id)
  local by_author = author_sums[scope] or {['']= {}}
  author_sums[scope] = by_author
  by_author[''][author] = (by_author[''][author] or 0) + downloads
  local of_modality = by_author[class.modality] or {}
  by_author[class.modality] = of_modality
  of_modality[author] = (of_modality[author] or 0) + downloads
  local fields = sums[scope] or {}
  sums[scope] = fields
  for _, field in ipairs(class.fields) do
    fields[field] = (fields[field] or 0) + downloads
  end
end

for _ = 1, model_count do
  local id, author, total, minus_total = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local day_count = tonumber(ARGV[i + 4])
  i = i + 5
  local write = not skip[author]
  local class
  if write then
    class = class_of(redis.call('HGET', tag .. ':class', id) or unknown_class)
    add('all', id, author, class, total, minus_total)
  end
  for _ = 1, day_count do
    local day, count, minus_count = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local revision_count = tonumber(ARGV[i + 3])
    if write then
      if not days[day] then
        days[day] = true
        days[#days + 1] = day
      end
      add('d:' .. day, id, author, class, tonumber(count), minus_count)
      for r = 1, revision_count do
        local at = i + 2 + 2 * r
        redis.call('HINCRBY', tag .. ':m:' .. id, day .. '|' .. ARGV[at], ARGV[at + 1])
      end
    end
    i = i + 4 + 2 * revision_count
  end
end

for scope, by_modality in pairs(author_sums) do
  local ranking = tag .. ':' .. scope .. ':authors'
  for modality, by_author in pairs(by_modality) do
    local key = modality == '' and ranking or (ranking .. ':' .. modality)
    for author, downloads in pairs(by_author) do
      redis.call('ZINCRBY', key, int(-downloads), author)
    end
  end
end
for scope, fields in pairs(sums) do
  for field, downloads in pairs(fields) do
    redis.call('HINCRBY', tag .. ':' .. scope .. ':agg', field, int(downloads))
  end
end
for _, day in ipairs(days) do
  redis.call('INCR', tag .. ':d:' .. day .. ':version')
  redis.call('ZADD', tag .. ':days', 0, day)
end
for producer, mark in pairs(marks) do
  redis.call('SET', tag .. ':applied:' .. producer, mark[1], 'EX', mark[2])
end
local out = {'applied'}
for _, author in ipairs(overflowing) do
  out[#out + 1] = author
end
return out
