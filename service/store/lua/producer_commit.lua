-- Records a client batch as committed. Runs on the producer's home shard; safe to repeat.
--
-- KEYS: the producer's log and floor (see producer_check.lua).
-- ARGV: sequence, digest, window (batches kept), TTL (seconds).
-- Keeps the newest `window` batches; the highest sequence trimmed becomes the floor, below
-- which every sequence counts as committed. Both keys expire TTL seconds after the last batch.
if #redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1] .. ':' .. ARGV[2])
end
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  local trimmed = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')[2]
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
  if tonumber(trimmed) > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], trimmed)
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return 1
