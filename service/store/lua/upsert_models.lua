-- Writes catalog entries of one shard and moves the history of reclassified models, atomically.
--
-- ARGV: tag, unknown class, entry count, then per entry: model id, author, class, record.
-- Returns the number of entries whose class changed.

local unknown_class = ARGV[2]

-- Moves `downloads` of one model in one scope from its old class to its new class.
local function move(scope, id, author, old, new, downloads)
  local base = tag .. ':' .. scope
  if old.modality ~= new.modality then
    for _, ranking in ipairs({{'models', id}, {'authors', author}}) do
      local old_key = base .. ':' .. ranking[1] .. ':' .. old.modality
      if tonumber(redis.call('ZINCRBY', old_key, int(downloads), ranking[2])) == 0 then
        redis.call('ZREM', old_key, ranking[2])
      end
      redis.call('ZINCRBY', base .. ':' .. ranking[1] .. ':' .. new.modality, int(-downloads),
                 ranking[2])
    end
  end
  if scope ~= 'all' then
    -- Cached unions of ranges holding this day are stale now.
    redis.call('INCR', base .. ':version')
  end
  local key = base .. ':agg'
  for k = 1, 4 do
    if old.fields[k] ~= new.fields[k] then
      if tonumber(redis.call('HINCRBY', key, old.fields[k], int(-downloads))) == 0 then
        redis.call('HDEL', key, old.fields[k])
      end
      redis.call('HINCRBY', key, new.fields[k], int(downloads))
    end
  end
end

local function class_table(encoded)
  local modality, fields = parse_class(encoded)
  return {modality = modality, fields = fields}
end

local reclassified, i = 0, 4
for _ = 1, tonumber(ARGV[3]) do
  local id, author, class, record = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  redis.call('HSET', tag .. ':catalog', id, record)
  local old_class = redis.call('HGET', tag .. ':class', id) or unknown_class
  if old_class ~= class then
    reclassified = reclassified + 1
    redis.call('HSET', tag .. ':class', id, class)
    local all_time = -(tonumber(redis.call('ZSCORE', tag .. ':all:models', id)) or 0)
    if all_time > 0 then
      local old, new = class_table(old_class), class_table(class)
      move('all', id, author, old, new, all_time)
      -- The model's downloads on each day are its scores in the day rankings.
      for _, day in ipairs(redis.call('ZRANGEBYLEX', tag .. ':days', '-', '+')) do
        local score = redis.call('ZSCORE', tag .. ':d:' .. day .. ':models', id)
        if score then
          move('d:' .. day, id, author, old, new, -tonumber(score))
        end
      end
    end
  end
end
return reclassified
