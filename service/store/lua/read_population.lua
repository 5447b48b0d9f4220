-- Population counts of one shard over a range.
--
-- ARGV: tag, first, last, all_time.
-- Returns {first day or "", last day or "", catalogued models, models with downloads,
--          authors with downloads, then the size aggregate values to sum}.

local all_time, first, last = ARGV[4] == '1', ARGV[2], ARGV[3]
local first_day = redis.call('ZRANGEBYLEX', tag .. ':days', first, last, 'LIMIT', 0, 1)[1] or ''
local last_day = redis.call('ZREVRANGEBYLEX', tag .. ':days', last, first, 'LIMIT', 0, 1)[1] or ''
local out = {first_day, last_day, tostring(redis.call('HLEN', tag .. ':class'))}
for _, suffix in ipairs({'models', 'authors'}) do
  local key = ranked_set(all_time, first, last, suffix)
  local count = 0
  if key then
    count = redis.call('ZCARD', key)
  end
  out[#out + 1] = tostring(count)
end
for _, value in ipairs(aggregate_values(all_time, first, last, 's|')) do
  out[#out + 1] = value
end
return out
