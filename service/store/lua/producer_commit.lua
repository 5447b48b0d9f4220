-- Records a client batch as committed. Runs on the producer's home shard.
--
-- ARGV: tag, producer, sequence, digest, window (batches kept), TTL (seconds).
-- Keeps the newest `window` batches; the highest sequence trimmed becomes the floor, below
-- which every sequence counts as committed. Both keys expire TTL seconds after the last batch.

local key = tag .. ':producer:' .. ARGV[2]
local floor_key = tag .. ':producer-floor:' .. ARGV[2]
if #redis.call('ZRANGEBYSCORE', key, ARGV[3], ARGV[3]) == 0 then
  redis.call('ZADD', key, ARGV[3], ARGV[3] .. ':' .. ARGV[4])
end
local excess = redis.call('ZCARD', key) - tonumber(ARGV[5])
if excess > 0 then
  local trimmed = redis.call('ZRANGE', key, excess - 1, excess - 1, 'WITHSCORES')[2]
  redis.call('ZREMRANGEBYRANK', key, 0, excess - 1)
  if tonumber(trimmed) > tonumber(redis.call('GET', floor_key) or '0') then
    redis.call('SET', floor_key, trimmed)
  end
end
redis.call('EXPIRE', key, ARGV[6])
if redis.call('EXISTS', floor_key) == 1 then
  redis.call('EXPIRE', floor_key, ARGV[6])
end
return 1
