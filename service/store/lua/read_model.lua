-- Everything one shard holds about one model.
--
-- ARGV: tag, model id, first, last (ZRANGEBYLEX bounds of the range).
-- Returns {record or "", class or "", all-time score or "", day count k, then k pairs
--          day, score (the days of the range with downloads), then the revision hash as
--          field, value, ... (fields "<day>|<revision>")}.

local id = ARGV[2]
local out = {
  redis.call('HGET', tag .. ':catalog', id) or '',
  redis.call('HGET', tag .. ':class', id) or '',
  redis.call('ZSCORE', tag .. ':all:models', id) or '',
}
local days = {}
for _, day in ipairs(days_between(ARGV[3], ARGV[4])) do
  local score = redis.call('ZSCORE', tag .. ':d:' .. day .. ':models', id)
  if score then
    days[#days + 1] = day
    days[#days + 1] = score
  end
end
out[#out + 1] = tostring(#days / 2)
for _, item in ipairs(days) do
  out[#out + 1] = item
end
for _, item in ipairs(redis.call('HGETALL', tag .. ':m:' .. id)) do
  out[#out + 1] = item
end
return out
