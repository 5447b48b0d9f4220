-- The n best-ranked members of one shard's ranking over a range.
--
-- ARGV: tag, first, last, all_time, suffix ("models", "authors", "models:nlp", ...), n,
--       aggregate prefix for the total ("s|" or "s|<modality>|").
-- Returns {value count k, k aggregate values, then member, score, member, score, ...}.

local all_time, first, last = ARGV[4] == '1', ARGV[2], ARGV[3]
local values = aggregate_values(all_time, first, last, ARGV[7])
local out = {tostring(#values)}
for _, value in ipairs(values) do
  out[#out + 1] = value
end
local key, scratch = ranked_set(all_time, first, last, ARGV[5])
if key then
  local top = redis.call('ZRANGE', key, 0, tonumber(ARGV[6]) - 1, 'WITHSCORES')
  for _, item in ipairs(top) do
    out[#out + 1] = item
  end
  if scratch then
    redis.call('DEL', key)
  end
end
return out
