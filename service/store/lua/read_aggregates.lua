-- Aggregate counters of one shard over a range.
--
-- ARGV: tag, first, last (ZRANGEBYLEX bounds), all_time ("1" or "0").
-- Returns {field, value, field, value, ...}; a field may repeat (one entry per day), and the
-- caller sums the values in 64-bit integers.

local all_time, first, last = ARGV[4] == '1', ARGV[2], ARGV[3]
if all_time then
  return redis.call('HGETALL', tag .. ':all:agg')
end
local sums, exact = {}, true
local out = {}
for _, day in ipairs(days_between(first, last)) do
  local pairs_list = redis.call('HGETALL', tag .. ':d:' .. day .. ':agg')
  for j = 1, #pairs_list, 2 do
    out[#out + 1] = pairs_list[j]
    out[#out + 1] = pairs_list[j + 1]
    local sum = (sums[pairs_list[j]] or 0) + tonumber(pairs_list[j + 1])
    sums[pairs_list[j]] = sum
    if sum > 9007199254740991 then
      exact = false
    end
  end
end
if not exact then
  -- A sum left the range where doubles are exact: send every value and let the caller add.
  return out
end
out = {}
for field, sum in pairs(sums) do
  out[#out + 1] = field
  out[#out + 1] = int(sum)
end
return out
