-- Writes entries of a shard's models hash, if nothing the caller read has changed since, and
-- logs the change record the caller encoded for exactly these writes. So indexes are assigned
-- and records replaced atomically, while the record encoding stays in C++ (core/change_record).
--
-- KEYS: models, log, version.
-- ARGV: retention (ms); the length the models hash must have (-1: any); the encoded record
-- ("": log nothing); then per entry: model id, the value it must have ("": none), its new value.
-- Returns {'ok', version} or {'stale'} (nothing written: read again and retry).
local expected_length = tonumber(ARGV[2])
if expected_length >= 0 and redis.call('HLEN', KEYS[1]) ~= expected_length then
  return {'stale'}
end
for i = 4, #ARGV, 3 do
  if (redis.call('HGET', KEYS[1], ARGV[i]) or '') ~= ARGV[i + 1] then
    return {'stale'}
  end
end
for i = 4, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
end
if ARGV[3] == '' then
  return {'ok', redis.call('GET', KEYS[3]) or '0-0'}
end
return {'ok', log_change(KEYS[2], KEYS[3], ARGV[3], tonumber(ARGV[1]))}
