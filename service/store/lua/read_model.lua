-- Everything one shard holds about one model.
--
-- ARGV: tag, model id.
-- Returns {record or "", class or "", all-time score or "", then the per-model hash as
--          field, value, ...}.

local id = ARGV[2]
local out = {
  redis.call('HGET', tag .. ':catalog', id) or '',
  redis.call('HGET', tag .. ':class', id) or '',
  redis.call('ZSCORE', tag .. ':all:models', id) or '',
}
for _, item in ipairs(redis.call('HGETALL', tag .. ':m:' .. id)) do
  out[#out + 1] = item
end
return out
