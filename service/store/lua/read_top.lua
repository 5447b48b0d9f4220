-- The n best-ranked members of one shard's ranking over a range.
--
-- ARGV: tag, first, last, all_time, suffix ("models", "authors", "models:nlp", ...), n,
--       aggregate prefix for the total ("s|" or "s|<modality>|").
-- Returns {value count k, k aggregate values, then member, score, member, score, ...}.
--
-- Over several days the ranking is the sum of the cached union of every day but the newest
-- and the newest day itself, combined by the threshold algorithm: a range ending today stays
-- cheap while today keeps changing.

local all_time, first, last, suffix, n = ARGV[4] == '1', ARGV[2], ARGV[3], ARGV[5], tonumber(ARGV[6])
local values = aggregate_values(all_time, first, last, ARGV[7])
local out = {tostring(#values)}
for _, value in ipairs(values) do
  out[#out + 1] = value
end
local top = {}
local days = all_time and {} or days_between(first, last)
if all_time or #days == 1 then
  top = redis.call('ZRANGE', ranked_set(all_time, first, last, suffix), 0, n - 1, 'WITHSCORES')
elseif #days > 1 then
  local older = {}
  for j = 1, #days - 1 do
    older[j] = days[j]
  end
  local older_key = #older == 1 and (tag .. ':d:' .. older[1] .. ':' .. suffix)
                    or cached_union(older, suffix)
  top = top_of_sum(older_key, tag .. ':d:' .. days[#days] .. ':' .. suffix, n)
end
for _, item in ipairs(top) do
  out[#out + 1] = item
end
return out
