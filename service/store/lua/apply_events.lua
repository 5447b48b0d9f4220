-- Applies one shard's ingest delta atomically.
--
-- ARGV: tag, unknown class, limit, producer ("" for none), sequence, mark TTL (seconds),
--   model count, then per model:
--   model id, author, total, day count, then per day: day, count, revision count,
--   then per revision: revision, count.
-- Returns {"skipped"} when the shard's mark for the producer is already at or past the
-- sequence (an earlier attempt of this batch applied it); otherwise {"applied", authors...}
-- where the authors are those whose events were skipped because their all-time downloads
-- would pass `limit` (nothing of theirs is written, everything else is). The mark moves to
-- the sequence in the same step, so a batch applied twice counts once.

local unknown_class, limit = ARGV[2], tonumber(ARGV[3])
local producer, sequence = ARGV[4], tonumber(ARGV[5])
local mark_key = tag .. ':applied:' .. producer
if producer ~= '' and tonumber(redis.call('GET', mark_key) or '0') >= sequence then
  return {'skipped'}
end
local models, i = {}, 8
for _ = 1, tonumber(ARGV[7]) do
  local model = {id = ARGV[i], author = ARGV[i + 1], total = tonumber(ARGV[i + 2]), days = {}}
  local day_count = tonumber(ARGV[i + 3])
  i = i + 4
  for _ = 1, day_count do
    local day = {day = ARGV[i], count = tonumber(ARGV[i + 1]), revisions = {}}
    local revision_count = tonumber(ARGV[i + 2])
    i = i + 3
    for _ = 1, revision_count do
      day.revisions[#day.revisions + 1] = {ARGV[i], ARGV[i + 1]}
      i = i + 2
    end
    model.days[#model.days + 1] = day
  end
  models[#models + 1] = model
end

-- Check every author before writing anything, so a refused author leaves no partial trace.
local added, skip, overflowing = {}, {}, {}
for _, model in ipairs(models) do
  added[model.author] = (added[model.author] or 0) + model.total
end
for author, downloads in pairs(added) do
  local current = -(tonumber(redis.call('ZSCORE', tag .. ':all:authors', author)) or 0)
  if current + downloads > limit then
    skip[author] = true
    overflowing[#overflowing + 1] = author
  end
end

-- Aggregate hash increments are summed per scope first: one HINCRBY per field and scope.
local aggregate = {}
local function add(scope, model, modality, fields, downloads)
  local base = tag .. ':' .. scope
  local minus = int(-downloads)
  -- Rankings store negative downloads: ascending order is then downloads descending with
  -- ties by id ascending, exactly the order every answer uses.
  redis.call('ZINCRBY', base .. ':models', minus, model.id)
  redis.call('ZINCRBY', base .. ':models:' .. modality, minus, model.id)
  redis.call('ZINCRBY', base .. ':authors', minus, model.author)
  redis.call('ZINCRBY', base .. ':authors:' .. modality, minus, model.author)
  local sums = aggregate[scope]
  if not sums then
    sums = {}
    aggregate[scope] = sums
  end
  for _, field in ipairs(fields) do
    sums[field] = (sums[field] or 0) + downloads
  end
end

local days_touched = {}
for _, model in ipairs(models) do
  if not skip[model.author] then
    -- Classified here, under the catalog as it is now: an upsert runs either wholly before
    -- or wholly after this script, so its move of history and these increments never race.
    local modality, fields = parse_class(redis.call('HGET', tag .. ':class', model.id) or unknown_class)
    add('all', model, modality, fields, model.total)
    local model_key = tag .. ':m:' .. model.id
    for _, day in ipairs(model.days) do
      add('d:' .. day.day, model, modality, fields, day.count)
      redis.call('HINCRBY', model_key, day.day, int(day.count))
      for _, revision in ipairs(day.revisions) do
        redis.call('HINCRBY', model_key, day.day .. '|' .. revision[1], revision[2])
      end
      days_touched[day.day] = true
    end
  end
end

for scope, sums in pairs(aggregate) do
  local key = tag .. ':' .. scope .. ':agg'
  for field, downloads in pairs(sums) do
    redis.call('HINCRBY', key, field, int(downloads))
  end
end
for day in pairs(days_touched) do
  redis.call('ZADD', tag .. ':days', 0, day)
end
if producer ~= '' then
  redis.call('SET', mark_key, ARGV[5], 'EX', ARGV[6])
end
local out = {'applied'}
for _, author in ipairs(overflowing) do
  out[#out + 1] = author
end
return out
